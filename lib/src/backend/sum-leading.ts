import * as tf from "@tensorflow/tfjs";
import { computeFloat32, type KernelArgs, type SingleOutputKernel } from "./kernel-data";

/**
 * Builds a Sum kernel for 'wasm' that adds up the leading axes of a float32 tensor, the
 * bias gradient of every dense and convolution layer, in one pass over memory. It calls
 * `original` for every other reduction.
 *
 * The wasm Sum of tfjs-backend-wasm 4.22 reduces innermost axes only, so for leading
 * axes it first transposes the whole input. The bias gradient of a [64, 28, 28, 16]
 * convolution output took it 2.7 ms of each training step (2-core Xeon, Node 20).
 */
export function leadingAxesSum(original: SingleOutputKernel): SingleOutputKernel {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs;
    const attrs = (args.attrs ?? {}) as { axis?: number | number[]; keepDims?: boolean };
    if (x === undefined || x.dtype !== "float32" || x.shape.length < 2) {
      return original(args);
    }
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(attrs.axis ?? [], x.shape).sort((a, b) => a - b);
    // Only the leading axes 0..k-1 with k < rank, each once
    const leading =
      axes.length > 0 && axes.length < rank && axes.every((axis, i) => axis === i);
    if (!leading) return original(args);

    const remaining = x.shape.slice(axes.length);
    const width = remaining.reduce((a, b) => a * b, 1);
    const outShape = attrs.keepDims ? [...axes.map(() => 1), ...remaining] : remaining;
    return computeFloat32(args.backend, outShape, [x], (out, [values]) => {
      // Sums in float64 and rounds once, so a sum over many rows loses no precision per
      // row. Four rows per pass halved the time of a [128, 784] sum (80 against 170 us).
      const totals = new Float64Array(width);
      const rows = values.length / width;
      let row = 0;
      for (; row + 4 <= rows; row += 4) {
        const first = row * width;
        const second = first + width;
        const third = second + width;
        const fourth = third + width;
        for (let j = 0; j < width; j++) {
          totals[j] +=
            values[first + j] +
            values[second + j] +
            values[third + j] +
            values[fourth + j];
        }
      }
      for (; row < rows; row++) {
        const start = row * width;
        for (let j = 0; j < width; j++) totals[j] += values[start + j];
      }
      out.set(totals);
    });
  };
}
