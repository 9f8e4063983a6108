import * as tf from "@tensorflow/tfjs";
import { AekitError } from "../core/errors";
import {
  computeFloat32,
  Intermediates,
  type KernelArgs,
  registeredKernel,
  requireInput,
} from "./kernel-data";

const KERNEL = "Conv2DBackpropFilter";

/**
 * The largest patch matrix, in float32 values (64 MiB), that the kernel builds to compute
 * the gradient as one matrix product. Above it the kernel convolves, which needs no
 * extra memory.
 */
export const MAX_PATCH_VALUES = 2 ** 24;

/**
 * Computes the gradient of a 2-D convolution with respect to its filter from the wasm
 * backend's own Transpose, Slice and Conv2D kernels. tfjs-backend-wasm 4.22 registers no
 * Conv2DBackpropFilter, so without this kernel no conv2d layer can train on 'wasm'.
 *
 * For a forward convolution with stride s and top/left padding p,
 *
 *   dW[i, j, c, k] = Σ_{b, u, v} x[b, u·s + i − p, v·s + j − p, c] · dy[b, u, v, k].
 *
 * Read with c as the batch axis and b as the channel axis, that sum is itself a
 * stride-1 convolution of x, transposed to [inChannels, height, width, batch], with dy,
 * transposed to [outHeight, outWidth, batch, outChannels] and dilated by s. Its output
 * [inChannels, filterHeight, filterWidth, outChannels] is transposed back to the filter
 * layout. Rows and columns of x that the forward convolution never read are sliced off
 * first, because that convolution's padding would have to be negative.
 *
 * When x or dy has at most 4 channels and the patch matrix of `filterGradientByMatMul`
 * fits in MAX_PATCH_VALUES, that function computes the gradient instead, as one XNNPACK
 * matrix product.
 *
 * Supports NHWC data only. The gradient of a forward convolution with dilations above 1
 * is rejected by TensorFlow.js before it reaches this kernel.
 */
export function conv2dBackpropFilterWasm(args: KernelArgs): tf.TensorInfo {
  const { inputs, backend } = args;
  const x = requireInput(inputs, "x", KERNEL);
  const dy = requireInput(inputs, "dy", KERNEL);
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (attrs.dataFormat !== "NHWC") {
    throw new AekitError(
      `${KERNEL} on the 'wasm' backend: dataFormat must be 'NHWC', ` +
        `got ${JSON.stringify(attrs.dataFormat)}, because the wasm Conv2D kernel supports channels-last data only`,
    );
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
  const expectedDy = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  if (dy.shape.join(",") !== expectedDy.join(",")) {
    throw new AekitError(
      `${KERNEL}: dy must have shape [${expectedDy.join(", ")}] for input [${x.shape.join(", ")}] ` +
        `and filter [${attrs.filterShape.join(", ")}], got [${dy.shape.join(", ")}]`,
    );
  }

  if (x.dtype !== "float32" || dy.dtype !== "float32") {
    throw new AekitError(
      `${KERNEL} on the 'wasm' backend: x and dy must be float32, got ${x.dtype} and ` +
        `${dy.dtype}; cast them with tf.cast(t, 'float32')`,
    );
  }
  if (x.shape.includes(0) || dy.shape.includes(0)) {
    // A sum of no terms: the wasm kernels would leave the output unwritten
    return computeFloat32(backend, attrs.filterShape, [], (out) => out.fill(0));
  }

  const patchValues =
    info.filterHeight *
    info.filterWidth *
    Math.min(info.inChannels, info.outChannels) *
    info.batchSize *
    Math.max(info.outHeight * info.outWidth, info.inHeight * info.inWidth);
  // The matrix product won or tied where x or dy had at most 4 channels: 3x3 filters on a
  // batch of 64 at 28x28 or 14x14, new tensors for every call, 2-core Xeon, Node 20 (1 -> 16
  // channels 5.1 against 8.7 ms, 32 -> 2 2.3 against 3.4 ms, 32 -> 4 4.1 against 4.1 ms,
  // 16 -> 8 3.5 against 2.1 ms).
  const fewChannels = Math.min(info.inChannels, info.outChannels) <= 4;
  if (fewChannels && patchValues <= MAX_PATCH_VALUES) {
    return filterGradientByMatMul(backend, x, dy, info);
  }
  return filterGradientByConv2d(backend, x, dy, info);
}

/**
 * Computes the filter gradient as a product of a patch matrix with x or dy, whichever
 * has more channels, through the registered BatchMatMul.
 *
 * With fewer input than output channels, row (i, j, c) of the patch matrix contains
 * x[b, u·s + i − p, v·s + j − p, c] for every output position (b, u, v). The gradient
 * [filterHeight·filterWidth·inChannels, outChannels] is then that matrix times dy. Otherwise
 * row (i, j, k) contains dy[b, u, v, k] at the input position (b, u·s + i − p, v·s + j − p)
 * and zero elsewhere, and the product with x, transposed, is the gradient.
 */
export function filterGradientByMatMul(
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { filterHeight, filterWidth, inChannels, outChannels } = info;
  const positions = info.batchSize * info.outHeight * info.outWidth;
  const pixels = info.batchSize * info.inHeight * info.inWidth;
  const noTranspose = { transposeA: false, transposeB: false };
  const intermediates = new Intermediates(backend);
  try {
    if (inChannels <= outChannels) {
      const rows = filterHeight * filterWidth * inChannels;
      const patches = computeFloat32(backend, [rows, positions], [x], (out, [xValues]) =>
        fillInputPatches(out, xValues, info),
      );
      intermediates.keep(patches);
      const gradient = registeredKernel(
        "BatchMatMul",
        "wasm",
      )({
        inputs: { a: patches, b: { ...dy, shape: [positions, outChannels] } },
        backend,
        attrs: noTranspose,
      });
      return { ...gradient, shape: info.filterShape };
    }
    const rows = filterHeight * filterWidth * outChannels;
    const shifts = computeFloat32(backend, [rows, pixels], [dy], (out, [dyValues]) =>
      fillGradientShifts(out, dyValues, info),
    );
    intermediates.keep(shifts);
    const swapped = intermediates.run(
      "BatchMatMul",
      { a: shifts, b: { ...x, shape: [pixels, inChannels] } },
      noTranspose,
    );
    return registeredKernel(
      "Transpose",
      "wasm",
    )({
      inputs: {
        x: { ...swapped, shape: [filterHeight, filterWidth, outChannels, inChannels] },
      },
      backend,
      attrs: { perm: [0, 1, 3, 2] },
    });
  } finally {
    intermediates.dispose();
  }
}

/**
 * Returns the range [start, end) of output columns v for which v·stride + offset is a
 * column in [0, size), so that the inner loops below need no bounds checks.
 */
function validRange(
  count: number,
  stride: number,
  offset: number,
  size: number,
): [number, number] {
  const start = Math.max(0, Math.ceil(-offset / stride));
  const end = Math.min(count, Math.ceil((size - offset) / stride));
  return [start, Math.max(start, end)];
}

/** Fills row (i, j, c) of `out` with the input values that filter tap (i, j) met. */
function fillInputPatches(
  out: Float32Array,
  x: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const step = strideWidth * inChannels;
  // One fill: a call per short row cost more than the copies
  out.fill(0);
  let index = 0;
  for (let i = 0; i < info.filterHeight; i++) {
    for (let j = 0; j < info.filterWidth; j++) {
      const [vStart, vEnd] = validRange(outWidth, strideWidth, j - left, inWidth);
      for (let c = 0; c < inChannels; c++) {
        for (let b = 0; b < batchSize; b++) {
          for (let u = 0; u < outHeight; u++) {
            const row = u * strideHeight + i - top;
            if (row < 0 || row >= inHeight) {
              index += outWidth;
              continue;
            }
            let source =
              ((b * inHeight + row) * inWidth + vStart * strideWidth + j - left) *
                inChannels +
              c;
            for (let v = vStart; v < vEnd; v++) {
              out[index + v] = x[source];
              source += step;
            }
            index += outWidth;
          }
        }
      }
    }
  }
}

/** Fills row (i, j, k) of `out` with dy[.., k] moved to the input pixels tap (i, j) met. */
function fillGradientShifts(
  out: Float32Array,
  dy: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): void {
  const { batchSize, inHeight, inWidth, outChannels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  out.fill(0);
  let index = 0;
  for (let i = 0; i < info.filterHeight; i++) {
    for (let j = 0; j < info.filterWidth; j++) {
      // Output column v met input column v·s + j − p through tap (i, j)
      const [vStart, vEnd] = validRange(outWidth, strideWidth, j - left, inWidth);
      for (let k = 0; k < outChannels; k++) {
        for (let b = 0; b < batchSize; b++) {
          for (let t = 0; t < inHeight; t++) {
            const shiftedRow = t + top - i;
            const u = shiftedRow / strideHeight;
            if (shiftedRow >= 0 && u < outHeight && shiftedRow % strideHeight === 0) {
              let source = ((b * outHeight + u) * outWidth + vStart) * outChannels + k;
              let target = index + vStart * strideWidth + j - left;
              for (let v = vStart; v < vEnd; v++) {
                out[target] = dy[source];
                target += strideWidth;
                source += outChannels;
              }
            }
            index += inWidth;
          }
        }
      }
    }
  }
}

/**
 * Computes the filter gradient as the stride-1 convolution described at
 * conv2dBackpropFilterWasm, which needs no memory beyond two transposed copies.
 */
export function filterGradientByConv2d(
  backend: tf.KernelBackend,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  // Rows [0, rowsRead) and columns [0, colsRead) of x are the ones the forward pass read.
  const { top, left } = info.padInfo;
  const rowsRead = (info.outHeight - 1) * info.strideHeight + info.filterHeight - top;
  const colsRead = (info.outWidth - 1) * info.strideWidth + info.filterWidth - left;
  const rowsKept = Math.min(rowsRead, info.inHeight);
  const colsKept = Math.min(colsRead, info.inWidth);
  const padding: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [top, rowsRead - rowsKept],
    [left, colsRead - colsKept],
    [0, 0],
  ];

  const intermediates = new Intermediates(backend);
  try {
    let xUsed = x;
    if (rowsKept < info.inHeight || colsKept < info.inWidth) {
      xUsed = intermediates.run(
        "Slice",
        { x },
        {
          begin: [0, 0, 0, 0],
          size: [info.batchSize, rowsKept, colsKept, info.inChannels],
        },
      );
    }
    const xT = intermediates.run("Transpose", { x: xUsed }, { perm: [3, 1, 2, 0] });
    const dyT = intermediates.run("Transpose", { x: dy }, { perm: [1, 2, 0, 3] });
    const dwT = intermediates.run(
      "Conv2D",
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        pad: padding,
        dataFormat: "NHWC",
        dilations: [info.strideHeight, info.strideWidth],
      },
    );
    return registeredKernel(
      "Transpose",
      "wasm",
    )({
      inputs: { x: dwT },
      backend,
      attrs: { perm: [1, 2, 0, 3] },
    });
  } finally {
    intermediates.dispose();
  }
}
