import * as tf from "@tensorflow/tfjs";
import { invalid } from "../core/validate";
import { modeWindow } from "./convolve";
import {
  convolve2dSameStart,
  correlate2dSameStart,
  modeWindow2d,
  type Window2d,
} from "./convolve2d";
import { readMode, type ConvolveMode } from "./input";

function checkTensor(
  fn: string,
  argument: string,
  value: unknown,
  rank: 1 | 2,
): tf.Tensor {
  if (!(value instanceof tf.Tensor) || value.rank !== rank) {
    invalid(fn, argument, `be a ${rank}-D tensor`, value);
  }
  if (value.size === 0) invalid(fn, argument, "have no zero-length dimension", value);
  return value;
}

/**
 * Runs tf.conv2d (a cross-correlation) on one single-channel image, padded with zeros
 * so that the output is the given window of the full correlation.
 */
function correlateWindow(
  image: tf.Tensor2D,
  kernel: tf.Tensor2D,
  window: Window2d,
): tf.Tensor2D {
  const [rows, cols] = image.shape;
  const [kRows, kCols] = kernel.shape;
  // output row i reads padded rows i .. i + kRows - 1, which are image rows from
  // window.top + i - (kRows - 1)
  const top = kRows - 1 - window.top;
  const bottom = window.rows + kRows - 1 - rows - top;
  const left = kCols - 1 - window.left;
  const right = window.cols + kCols - 1 - cols - left;
  const input = image.reshape([1, rows, cols, 1]) as tf.Tensor4D;
  const filter = kernel.reshape([kRows, kCols, 1, 1]) as tf.Tensor4D;
  const padding: [
    [number, number],
    [number, number],
    [number, number],
    [number, number],
  ] = [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
  return tf.conv2d(input, filter, 1, padding).reshape([window.rows, window.cols]);
}

function shape2d(tensor: tf.Tensor2D): { rows: number; cols: number } {
  return { rows: tensor.shape[0], cols: tensor.shape[1] };
}

/**
 * Cross-correlates two 2-D tensors with tf.conv2d, with the output of `correlate2d` in
 * every mode (including its 'same' window for even kernels), in float32 on the current
 * backend. It shows that a CNN's convolution layer computes a correlation.
 *
 * @param image - a 2-D tensor [H, W]
 * @param kernel - a 2-D tensor [kh, kw]
 * @param mode - 'full', 'same' or 'valid' (see `correlate2d`)
 * @returns a 2-D tensor, which the caller disposes of
 * @throws AekitError when an input is not a non-empty 2-D tensor, on an unknown mode,
 *   or on sizes that 'valid' cannot pair
 *
 * See also: `correlate2d` (float64 arrays, without TensorFlow.js), `convolve2dTensor`.
 */
export function correlate2dTensor(
  image: tf.Tensor2D,
  kernel: tf.Tensor2D,
  mode: ConvolveMode = "full",
): tf.Tensor2D {
  checkTensor("correlate2dTensor", "image", image, 2);
  checkTensor("correlate2dTensor", "kernel", kernel, 2);
  const checkedMode = readMode("correlate2dTensor", mode);

  const window = modeWindow2d(
    "correlate2dTensor",
    checkedMode,
    shape2d(image),
    shape2d(kernel),
    correlate2dSameStart,
  );
  return tf.tidy(() => correlateWindow(image, kernel, window));
}

/**
 * Convolves two 2-D tensors: tf.conv2d with the kernel rotated by 180 degrees, with the
 * output of `convolve2d` in every mode, in float32 on the current backend.
 *
 * @param image - a 2-D tensor [H, W]
 * @param kernel - a 2-D tensor [kh, kw]
 * @param mode - 'full', 'same' or 'valid' (see `convolve2d`)
 * @returns a 2-D tensor, which the caller disposes of
 * @throws AekitError when an input is not a non-empty 2-D tensor, on an unknown mode,
 *   or on sizes that 'valid' cannot pair
 *
 * See also: `convolve2d` (float64 arrays, without TensorFlow.js), `correlate2dTensor`.
 */
export function convolve2dTensor(
  image: tf.Tensor2D,
  kernel: tf.Tensor2D,
  mode: ConvolveMode = "full",
): tf.Tensor2D {
  checkTensor("convolve2dTensor", "image", image, 2);
  checkTensor("convolve2dTensor", "kernel", kernel, 2);
  const checkedMode = readMode("convolve2dTensor", mode);

  const window = modeWindow2d(
    "convolve2dTensor",
    checkedMode,
    shape2d(image),
    shape2d(kernel),
    convolve2dSameStart,
  );
  return tf.tidy(() => correlateWindow(image, tf.reverse(kernel, [0, 1]), window));
}

/** Returns the 2-D window of one row that matches a 1-D window of the full output. */
function windowOfRow(start: number, length: number): Window2d {
  return { top: 0, left: start, rows: 1, cols: length };
}

/**
 * Cross-correlates two 1-D tensors with tf.conv2d on one row, with the output of
 * `correlate` in every mode, in float32 on the current backend.
 *
 * @param x - a 1-D tensor [N]
 * @param h - a 1-D tensor [M]
 * @param mode - 'full', 'same' or 'valid' (see `correlate`)
 * @returns a 1-D tensor, which the caller disposes of
 * @throws AekitError when an input is not a non-empty 1-D tensor or on an unknown mode
 *
 * See also: `correlate` (float64 arrays, without TensorFlow.js), `correlationLags`,
 * `convolveTensor`.
 */
export function correlateTensor(
  x: tf.Tensor1D,
  h: tf.Tensor1D,
  mode: ConvolveMode = "full",
): tf.Tensor1D {
  checkTensor("correlateTensor", "x", x, 1);
  checkTensor("correlateTensor", "h", h, 1);
  const checkedMode = readMode("correlateTensor", mode);

  const { start, length } = modeWindow(checkedMode, x.size, h.size);
  return tf.tidy(() =>
    correlateWindow(
      x.reshape([1, x.size]),
      h.reshape([1, h.size]),
      windowOfRow(start, length),
    ).reshape([length]),
  );
}

/**
 * Convolves two 1-D tensors: tf.conv2d on one row with h reversed, with the output of
 * `convolve` in every mode, in float32 on the current backend.
 *
 * @param x - a 1-D tensor [N]
 * @param h - a 1-D tensor [M]
 * @param mode - 'full', 'same' or 'valid' (see `convolve`)
 * @returns a 1-D tensor, which the caller disposes of
 * @throws AekitError when an input is not a non-empty 1-D tensor or on an unknown mode
 *
 * See also: `convolve` (float64 arrays, without TensorFlow.js), `correlateTensor`.
 */
export function convolveTensor(
  x: tf.Tensor1D,
  h: tf.Tensor1D,
  mode: ConvolveMode = "full",
): tf.Tensor1D {
  checkTensor("convolveTensor", "x", x, 1);
  checkTensor("convolveTensor", "h", h, 1);
  const checkedMode = readMode("convolveTensor", mode);

  const { start, length } = modeWindow(checkedMode, x.size, h.size);
  return tf.tidy(() => {
    const reversed = tf.reverse(h, 0).reshape([1, h.size]) as tf.Tensor2D;
    return correlateWindow(
      x.reshape([1, x.size]),
      reversed,
      windowOfRow(start, length),
    ).reshape([length]);
  });
}
