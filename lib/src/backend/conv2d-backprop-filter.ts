import * as tf from "@tensorflow/tfjs";
import { AekitError } from "../core/errors";
import {
  type KernelArgs,
  registeredKernel,
  requireInput,
  type SingleOutputKernel,
} from "./kernel-data";

const KERNEL = "Conv2DBackpropFilter";

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

  const transpose = registeredKernel("Transpose", "wasm");
  const conv2d = registeredKernel("Conv2D", "wasm");
  const intermediates: tf.TensorInfo[] = [];
  const run = (
    kernel: SingleOutputKernel,
    kernelInputs: tf.NamedTensorInfoMap,
    kernelAttrs: object,
  ) => {
    const out = kernel({
      inputs: kernelInputs,
      backend,
      attrs: kernelAttrs as tf.NamedAttrMap,
    });
    intermediates.push(out);
    return out;
  };
  try {
    let xUsed = x;
    if (rowsKept < info.inHeight || colsKept < info.inWidth) {
      xUsed = run(
        registeredKernel("Slice", "wasm"),
        { x },
        {
          begin: [0, 0, 0, 0],
          size: [info.batchSize, rowsKept, colsKept, info.inChannels],
        },
      );
    }
    const xT = run(transpose, { x: xUsed }, { perm: [3, 1, 2, 0] });
    const dyT = run(transpose, { x: dy }, { perm: [1, 2, 0, 3] });
    const dwT = run(
      conv2d,
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        pad: padding,
        dataFormat: "NHWC",
        dilations: [info.strideHeight, info.strideWidth],
      },
    );
    return transpose({ inputs: { x: dwT }, backend, attrs: { perm: [1, 2, 0, 3] } });
  } finally {
    for (const intermediate of intermediates) {
      backend.disposeData(intermediate.dataId);
    }
  }
}
