import * as tf from "@tensorflow/tfjs";
import { checkFinite, invalid } from "../core/validate";
import { checkRows } from "../linalg/dense";

/** Numbers as a flat array with their shape. */
interface NumberArray {
  values: number[];
  shape: number[];
}

/** Reads a number[] or number[][], checking for equal row lengths and finite entries. */
function readNumbers(fn: string, argument: string, value: unknown): NumberArray {
  if (!Array.isArray(value)) {
    invalid(fn, argument, "be a tf.Tensor, a number[] or a number[][]", value);
  }
  if (Array.isArray(value[0])) {
    const columns = checkRows(fn, argument, value);
    return { values: (value as number[][]).flat(), shape: [value.length, columns] };
  }
  value.forEach((entry: unknown, i) => {
    if (typeof entry !== "number" || !Number.isFinite(entry)) {
      invalid(fn, `${argument}[${i}]`, "be a finite number", entry);
    }
  });
  return { values: value as number[], shape: [value.length] };
}

const describeShape = (shape: readonly number[]) => `[${shape.join(", ")}]`;

function checkSameShape(
  fn: string,
  names: [string, string],
  first: readonly number[],
  second: readonly number[],
  value: unknown,
) {
  const same =
    first.length === second.length && first.every((size, i) => size === second[i]);
  if (!same) {
    invalid(
      fn,
      names[1],
      `have the shape of ${names[0]}, ${describeShape(first)}`,
      value,
    );
  }
}

/** Returns the mean squared difference of two arrays of the same shape, in float64. */
function arrayMse(fn: string, names: [string, string], a: unknown, b: unknown): number {
  const first = readNumbers(fn, names[0], a);
  const second = readNumbers(fn, names[1], b);
  checkSameShape(fn, names, first.shape, second.shape, b);
  if (first.values.length === 0) invalid(fn, names[0], "have at least one entry", a);
  let sum = 0;
  first.values.forEach((value, i) => (sum += (value - second.values[i]) ** 2));
  return sum / first.values.length;
}

function checkTensorPair(fn: string, names: [string, string], a: tf.Tensor, b: unknown) {
  if (!(b instanceof tf.Tensor)) {
    invalid(fn, names[1], `be a tf.Tensor like ${names[0]}`, b);
  }
  checkSameShape(fn, names, a.shape, b.shape, b);
  if (a.size === 0) invalid(fn, names[0], "have at least one entry", a);
}

/**
 * Computes the mean squared error mean((target - prediction)^2) over all entries.
 *
 * Tensors give a differentiable tf.Scalar, computed in tf.tidy, for use as a
 * reconstruction loss term. Read it with `.arraySync()` and dispose it. Arrays
 * (number[] or number[][]) give a number, computed in float64. Both arguments must be
 * of the same kind and shape.
 */
export function mse(target: tf.Tensor, prediction: tf.Tensor): tf.Scalar;
export function mse(
  target: number[] | number[][],
  prediction: number[] | number[][],
): number;
export function mse(
  target: tf.Tensor | number[] | number[][],
  prediction: tf.Tensor | number[] | number[][],
): tf.Scalar | number {
  const fn = "mse";
  const names: [string, string] = ["target", "prediction"];
  if (target instanceof tf.Tensor) {
    checkTensorPair(fn, names, target, prediction);
    return tf.tidy(() =>
      tf.mean(
        tf.squaredDifference(
          tf.cast(target, "float32"),
          tf.cast(prediction as tf.Tensor, "float32"),
        ),
      ),
    ) as tf.Scalar;
  }
  if (prediction instanceof tf.Tensor) {
    invalid(fn, "prediction", "be an array like target", prediction);
  }
  return arrayMse(fn, names, target, prediction);
}

/**
 * Computes the peak signal-to-noise ratio of `test` against `clean` in decibels:
 * 10 log10(maxValue^2 / MSE), with one MSE over all entries (not a mean of per-image
 * PSNRs). Higher is better, and identical inputs give Infinity.
 *
 * @param clean the reference, a tf.Tensor, number[] or number[][].
 * @param test the same kind and shape as `clean`, e.g. a reconstruction.
 * @param maxValue the largest possible value of an entry, 1 for pixels in [0, 1] and
 *   255 for 8-bit pixels. Default 1.
 */
export function psnr(
  clean: tf.Tensor | number[] | number[][],
  test: tf.Tensor | number[] | number[][],
  maxValue = 1,
): number {
  const fn = "psnr";
  checkFinite(fn, "maxValue", maxValue);
  if (maxValue <= 0) invalid(fn, "maxValue", "be > 0", maxValue);
  const names: [string, string] = ["clean", "test"];
  let error: number;
  if (clean instanceof tf.Tensor) {
    checkTensorPair(fn, names, clean, test);
    const scalar = tf.tidy(() =>
      tf.mean(
        tf.squaredDifference(
          tf.cast(clean, "float32"),
          tf.cast(test as tf.Tensor, "float32"),
        ),
      ),
    );
    error = scalar.dataSync()[0];
    scalar.dispose();
  } else {
    if (test instanceof tf.Tensor) invalid(fn, "test", "be an array like clean", test);
    error = arrayMse(fn, names, clean, test);
  }
  return 10 * Math.log10((maxValue * maxValue) / error);
}
