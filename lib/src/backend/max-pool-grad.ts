import * as tf from "@tensorflow/tfjs";
import { type KernelArgs, readFloat32, requireInput, writeFloat32 } from "./kernel-data";

/**
 * Computes the gradient of a 2-D max pool. Each window passes its dy to the input element
 * with the window's maximum value, and on a tie to the first such element in row-major
 * order, as the cpu MaxPoolGrad of tfjs-backend-cpu 4.22 does. Padded positions never win.
 *
 * Replaces the wasm MaxPoolGrad of tfjs-backend-wasm 4.22, which drops the gradient of
 * every window whose maximum is 0 or negative. Runs on any backend that stores float32
 * data readable with `readSync`.
 */
export function maxPoolGrad(args: KernelArgs): tf.TensorInfo {
  const { inputs, backend } = args;
  const input = requireInput(inputs, "input", "MaxPoolGrad");
  const dy = requireInput(inputs, "dy", "MaxPoolGrad");
  const attrs = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const x = readFloat32(backend, input);
  const dyValues = readFloat32(backend, dy);
  const dx = new Float32Array(x.length);

  for (let b = 0; b < info.batchSize; b++) {
    for (let outRow = 0; outRow < outHeight; outRow++) {
      const rowStart = outRow * info.strideHeight - info.padInfo.top;
      const rowEnd = Math.min(rowStart + info.filterHeight, inHeight);
      for (let outCol = 0; outCol < outWidth; outCol++) {
        const colStart = outCol * info.strideWidth - info.padInfo.left;
        const colEnd = Math.min(colStart + info.filterWidth, inWidth);
        const dyOffset = ((b * outHeight + outRow) * outWidth + outCol) * channels;
        for (let c = 0; c < channels; c++) {
          let argmax = -1;
          let max = 0;
          for (let row = Math.max(rowStart, 0); row < rowEnd; row++) {
            for (let col = Math.max(colStart, 0); col < colEnd; col++) {
              const index = ((b * inHeight + row) * inWidth + col) * channels + c;
              if (argmax < 0 || x[index] > max) {
                argmax = index;
                max = x[index];
              }
            }
          }
          if (argmax >= 0) {
            dx[argmax] += dyValues[dyOffset + c];
          }
        }
      }
    }
  }
  return writeFloat32(backend, input.shape, dx);
}
