import * as tf from "@tensorflow/tfjs";
import { computeFloat32, type KernelArgs, requireInput } from "./kernel-data";

/**
 * Computes the gradient of a 2-D max pool. Each window passes its dy to the input element
 * with the window's maximum value, and on a tie to the first such element in row-major
 * order, as the cpu MaxPoolGrad of tfjs-backend-cpu 4.22 does. Padded positions never win.
 *
 * Replaces the wasm MaxPoolGrad of tfjs-backend-wasm 4.22, which drops the gradient of
 * every window whose maximum is 0 or negative. Runs on any backend that stores float32
 * data readable with `readSync`, and on 'wasm' in place in its memory.
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
  return computeFloat32(backend, input.shape, [input, dy], (dx, [x, dyValues]) =>
    addToWindowMaxima(dx, x, dyValues, info),
  );
}

/**
 * Sets dx to zero and adds each window's dy to its maximum. The channel loop is innermost
 * so that every read and write walks memory in order.
 */
function addToWindowMaxima(
  dx: Float32Array,
  x: Float32Array,
  dy: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): void {
  const { inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const argmax = new Int32Array(channels);
  const max = new Float32Array(channels);
  dx.fill(0);
  for (let b = 0; b < info.batchSize; b++) {
    for (let outRow = 0; outRow < outHeight; outRow++) {
      const rowStart = outRow * info.strideHeight - info.padInfo.top;
      const rowEnd = Math.min(rowStart + info.filterHeight, inHeight);
      for (let outCol = 0; outCol < outWidth; outCol++) {
        const colStart = outCol * info.strideWidth - info.padInfo.left;
        const colEnd = Math.min(colStart + info.filterWidth, inWidth);
        // A loop, not fill(): a call per window cost more than the few channels it sets
        for (let c = 0; c < channels; c++) {
          argmax[c] = -1;
          max[c] = -Infinity;
        }
        for (let row = Math.max(rowStart, 0); row < rowEnd; row++) {
          for (let col = Math.max(colStart, 0); col < colEnd; col++) {
            const offset = ((b * inHeight + row) * inWidth + col) * channels;
            for (let c = 0; c < channels; c++) {
              // Strictly greater, so a tie goes to the first element in row-major order,
              // and a window of NaN or -Infinity only passes no gradient, as on cpu
              if (x[offset + c] > max[c]) {
                argmax[c] = offset + c;
                max[c] = x[offset + c];
              }
            }
          }
        }
        const dyOffset = ((b * outHeight + outRow) * outWidth + outCol) * channels;
        for (let c = 0; c < channels; c++) {
          if (argmax[c] >= 0) dx[argmax[c]] += dy[dyOffset + c];
        }
      }
    }
  }
}
