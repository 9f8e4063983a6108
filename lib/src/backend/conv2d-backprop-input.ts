import * as tf from "@tensorflow/tfjs";
import {
  computeFloat32,
  Intermediates,
  type KernelArgs,
  registeredKernel,
  type SingleOutputKernel,
} from "./kernel-data";

/**
 * Builds a Conv2DBackpropInput kernel for 'wasm' from the wasm Conv2D kernel, which runs
 * on XNNPACK, and calls `original` for what it does not cover (NCHW data, or a padding
 * the formula below cannot express).
 *
 * For a forward convolution with stride s and top padding p, input row t receives
 *
 *   dx[t, c] = Σ_{u, i : u·s + i − p = t} Σ_k dy[u, k] · W[i, c, k]   (columns alike).
 *
 * Dilate dy by s, putting s − 1 zero rows between its rows. Then that sum is a stride-1
 * convolution of the dilated dy, padded by filterHeight − 1 − p on top, with W flipped in
 * both spatial axes and its two channel axes swapped. tfjs-backend-wasm 4.22's own kernel loops over every
 * term: on the benchmark's convolutional autoencoder it took 58 ms of each 126 ms step.
 */
export function conv2dBackpropInputFromConv2d(
  original: SingleOutputKernel,
): SingleOutputKernel {
  return (args: KernelArgs): tf.TensorInfo => {
    const { dy, filter } = args.inputs;
    const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    if (
      dy === undefined ||
      filter === undefined ||
      attrs.dataFormat !== "NHWC" ||
      // an empty dy or filter gives zeros, which the wasm Conv2D leaves unwritten
      dy.shape.includes(0) ||
      filter.shape.includes(0)
    ) {
      return original(args);
    }
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      "channelsLast",
    );
    const dilatedHeight = (info.outHeight - 1) * info.strideHeight + 1;
    const dilatedWidth = (info.outWidth - 1) * info.strideWidth + 1;
    const top = info.filterHeight - 1 - info.padInfo.top;
    const left = info.filterWidth - 1 - info.padInfo.left;
    // The output has inHeight rows exactly when the padding adds up to this
    const bottom = info.inHeight - dilatedHeight + info.padInfo.top;
    const right = info.inWidth - dilatedWidth + info.padInfo.left;
    const expectedDy = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
    if (
      Math.min(top, left, bottom, right) < 0 ||
      dy.shape.join(",") !== expectedDy.join(",") ||
      dy.dtype !== "float32"
    ) {
      return original(args);
    }

    const { backend } = args;
    const intermediates = new Intermediates(backend);
    try {
      let dyUsed = dy;
      if (info.strideHeight > 1 || info.strideWidth > 1) {
        dyUsed = intermediates.keep(
          dilate(backend, dy, dilatedHeight, dilatedWidth, info),
        );
      }
      const flipped = intermediates.run("Reverse", { x: filter }, { dims: [0, 1] });
      const swapped = intermediates.run(
        "Transpose",
        { x: flipped },
        { perm: [0, 1, 3, 2] },
      );
      const padding: tf.backend_util.ExplicitPadding = [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ];
      return registeredKernel(
        "Conv2D",
        "wasm",
      )({
        inputs: { x: dyUsed, filter: swapped },
        backend,
        attrs: {
          strides: [1, 1],
          pad: padding,
          dataFormat: "NHWC",
          dilations: [1, 1],
        } as unknown as tf.NamedAttrMap,
      });
    } finally {
      intermediates.dispose();
    }
  };
}

/** Returns dy with strideHeight − 1 zero rows between its rows, and columns alike. */
function dilate(
  backend: tf.KernelBackend,
  dy: tf.TensorInfo,
  height: number,
  width: number,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const channels = info.outChannels;
  const shape = [info.batchSize, height, width, channels];
  return computeFloat32(backend, shape, [dy], (target, [source]) => {
    target.fill(0);
    let sourceOffset = 0;
    for (let b = 0; b < info.batchSize; b++) {
      for (let row = 0; row < info.outHeight; row++) {
        const rowStart = (b * height + row * info.strideHeight) * width;
        for (let col = 0; col < info.outWidth; col++) {
          const targetOffset = (rowStart + col * info.strideWidth) * channels;
          for (let c = 0; c < channels; c++) {
            target[targetOffset + c] = source[sourceOffset++];
          }
        }
      }
    }
  });
}
