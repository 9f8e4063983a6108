import { convolve2dDirect, directCost } from "./direct";
import { planTiles } from "./fft";
import { convolve2dFftParallel } from "./parallel";
import {
  invalidDescribed,
  readImage,
  readMethod,
  readMode,
  toImageOutput,
  type ConvolveOptions,
  type Grid,
  type Signal2D,
  type Signal2DOutput,
  type ConvolveMethod,
  type ConvolveMode,
} from "./input";
import { workArray } from "./scratch";

/** The number of rows and columns of a 2-D input. */
export interface Size2d {
  readonly rows: number;
  readonly cols: number;
}

/** The rows and columns of the full 2-D output that a mode keeps. */
export interface Window2d {
  readonly top: number;
  readonly left: number;
  readonly rows: number;
  readonly cols: number;
}

/**
 * Returns the window of the full 2-D convolution that a mode keeps, in the
 * coordinates of the convolution with the kernel as given (correlation flips it first).
 * `sameStart` gives the first kept index of 'same' for a kernel dimension of k.
 */
export function modeWindow2d(
  fn: string,
  mode: ConvolveMode,
  image: Size2d,
  kernel: Size2d,
  sameStart: (k: number) => number,
): Window2d {
  if (mode === "full") {
    return {
      top: 0,
      left: 0,
      rows: image.rows + kernel.rows - 1,
      cols: image.cols + kernel.cols - 1,
    };
  }
  if (mode === "same") {
    return {
      top: sameStart(kernel.rows),
      left: sameStart(kernel.cols),
      rows: image.rows,
      cols: image.cols,
    };
  }
  const kernelFits = kernel.rows <= image.rows && kernel.cols <= image.cols;
  const imageFits = image.rows <= kernel.rows && image.cols <= kernel.cols;
  if (!kernelFits && !imageFits) {
    invalidDescribed(
      fn,
      "kernel",
      `be no larger than image (${image.rows} x ${image.cols}) in both dimensions, ` +
        "or no smaller in both, for mode 'valid'",
      `${kernel.rows} x ${kernel.cols}`,
    );
  }
  return {
    top: Math.min(image.rows, kernel.rows) - 1,
    left: Math.min(image.cols, kernel.cols) - 1,
    rows: Math.abs(image.rows - kernel.rows) + 1,
    cols: Math.abs(image.cols - kernel.cols) + 1,
  };
}

/**
 * The first index of the 'same' window in the full output, for a kernel dimension of k:
 * scipy's convolve2d (and its n-dimensional convolve and correlate) start at
 * floor((k - 1) / 2), its correlate2d at floor(k / 2). They differ for an even k.
 */
export const convolve2dSameStart = (k: number): number => Math.floor((k - 1) / 2);
export const correlate2dSameStart = (k: number): number => Math.floor(k / 2);

/**
 * Computes a window of the full 2-D convolution of image and kernel with a method, into
 * `out` (row-major, every entry overwritten) when it is given. `meanwhile`, when given,
 * runs once on this thread, while worker threads compute their parts of a split FFT.
 */
export function convolveWindow2d(
  image: Grid,
  kernel: Grid,
  window: Window2d,
  method: ConvolveMethod,
  out?: Float64Array,
  meanwhile?: () => void,
): Grid {
  // the convolution is symmetric in its inputs, and the tiles want the smaller kernel
  const [signal, filter] =
    kernel.rows * kernel.cols > image.rows * image.cols
      ? [kernel, image]
      : [image, kernel];
  const tiles = planTiles(filter.rows, filter.cols, window.rows, window.cols);
  // besides its multiply-adds, the direct sum spends about 2 of them per kernel row and
  // 4 more per output
  const direct =
    directCost(signal.rows, filter.rows, window.top, window.rows) *
      directCost(signal.cols, filter.cols, window.left, window.cols) +
    window.rows * window.cols * (2 * filter.rows + 4);
  const useFft = method === "fft" || (method === "auto" && tiles.cost < direct);
  const { top, left, rows, cols } = window;
  if (!useFft) {
    const grid = convolve2dDirect(signal, filter, top, left, rows, cols, out);
    meanwhile?.();
    return grid;
  }
  return convolve2dFftParallel(
    signal,
    filter,
    top,
    left,
    rows,
    cols,
    tiles.rows,
    tiles.cols,
    tiles.cost,
    out,
    meanwhile,
  );
}

/** Returns a copy of `grid` rotated by 180 degrees. */
export function rotate180(grid: Grid): Grid {
  return { rows: grid.rows, cols: grid.cols, data: grid.data.slice().reverse() };
}

/**
 * Convolves an image with a kernel in 2-D, like scipy.signal.convolve2d with its
 * default zero boundary.
 *
 * With the image of H x W and the kernel of kh x kw, the full convolution is
 *
 *     y[i][j] = sum_{u,v} kernel[u][v] image[i - u][j - v],
 *
 * for i = 0 .. H + kh - 2 and j = 0 .. W + kw - 2, with zeros outside the inputs.
 * The modes keep
 *
 * - 'full' (default): all (H + kh - 1) x (W + kw - 1) entries.
 * - 'same': H x W entries starting at (floor((kh - 1) / 2), floor((kw - 1) / 2)),
 *   as scipy.signal.convolve2d and scipy.signal.convolve do.
 * - 'valid': the (|H - kh| + 1) x (|W - kw| + 1) entries that use no zero padding. The
 *   kernel must be no larger than the image in both dimensions, or no smaller in both.
 *   In the second case the inputs swap roles, as in scipy.
 *
 * Rows of the output have the type of the image's rows: Arrays for Arrays, Float32Arrays
 * for Float32Arrays, otherwise Float64Arrays. The sums run in float64.
 *
 * @param image - a non-empty array of rows of equal length, finite numbers
 * @param kernel - a non-empty array of rows of equal length, finite numbers
 * @param mode - 'full', 'same' or 'valid'
 * @param options - `method`: 'auto' (default), 'direct' or 'fft'
 * @throws AekitError on empty or ragged inputs, non-finite values, an unknown mode or
 *   method, or kernel and image sizes that 'valid' cannot pair
 *
 * See also: `correlate2d` (no kernel flip, as in tf.conv2d), `convolve`,
 * `convolve2dTensor`.
 *
 * Reference: scipy.signal.convolve2d, SciPy 1.10 documentation. The tests compare
 * with values it computed.
 */
export function convolve2d<T extends Signal2D>(
  image: T,
  kernel: Signal2D,
  mode: ConvolveMode = "full",
  options?: ConvolveOptions,
): Signal2DOutput<T> {
  const a = readImage("convolve2d", "image", image, "image");
  const k = readImage("convolve2d", "kernel", kernel);
  const checkedMode = readMode("convolve2d", mode);
  const method = readMethod("convolve2d", options);

  const window = modeWindow2d("convolve2d", checkedMode, a, k, convolve2dSameStart);
  // the output is copied row by row into new arrays, so the grid can be a work array
  const out = workArray("output", window.rows * window.cols);
  return toImageOutput(image, convolveWindow2d(a, k, window, method, out));
}

/**
 * Cross-correlates an image with a kernel in 2-D, like scipy.signal.correlate2d with
 * its default zero boundary. This is what tf.conv2d computes, so a CNN's "convolution"
 * layer is a correlation.
 *
 * With the image of H x W and the kernel of kh x kw, the correlation at lag (r, c) is
 *
 *     z[r][c] = sum_{u,v} image[u + r][v + c] kernel[u][v],
 *
 * for r = -(kh - 1) .. H - 1 and c = -(kw - 1) .. W - 1, with zeros outside the
 * inputs. The output lists lags in increasing order, and the modes keep
 *
 * - 'full' (default): all (H + kh - 1) x (W + kw - 1) lags.
 * - 'same': H x W lags, r = -floor((kh - 1) / 2) .. H - 1 - floor((kh - 1) / 2), and
 *   likewise for c. For an odd kernel this is centred. For an even kernel, scipy's
 *   correlate2d (followed here) starts one lag later than scipy.signal.correlate on the
 *   same arrays, which starts at r = -floor(kh / 2). A 2 x 2 kernel covers lags
 *   0 .. H - 1
 *   here and -1 .. H - 2 there.
 * - 'valid': the lags that use no zero padding, r = 0 .. H - kh and c = 0 .. W - kw.
 *   The kernel must be no larger than the image in both dimensions, or no smaller in
 *   both. A larger kernel gives r = H - kh .. 0 and c = W - kw .. 0, as in scipy.
 *
 * Rows of the output have the type of the image's rows (see `convolve2d`). The sums run
 * in float64.
 *
 * @param image - a non-empty array of rows of equal length, finite numbers
 * @param kernel - a non-empty array of rows of equal length, finite numbers
 * @param mode - 'full', 'same' or 'valid'
 * @param options - `method`: 'auto' (default), 'direct' or 'fft'
 * @throws AekitError on empty or ragged inputs, non-finite values, an unknown mode or
 *   method, or kernel and image sizes that 'valid' cannot pair
 *
 * @example
 * correlate2d([[1, 2], [3, 4]], [[1, 0], [0, -1]], "valid"); // [[-3]]
 *
 * See also: `convolve2d`, `correlate`, `matchTemplate` (normalized),
 * `correlate2dTensor`.
 *
 * Reference: scipy.signal.correlate2d, SciPy 1.10 documentation. The tests compare
 * with values it computed.
 */
export function correlate2d<T extends Signal2D>(
  image: T,
  kernel: Signal2D,
  mode: ConvolveMode = "full",
  options?: ConvolveOptions,
): Signal2DOutput<T> {
  const a = readImage("correlate2d", "image", image, "image");
  const k = readImage("correlate2d", "kernel", kernel);
  const checkedMode = readMode("correlate2d", mode);
  const method = readMethod("correlate2d", options);

  const window = modeWindow2d("correlate2d", checkedMode, a, k, correlate2dSameStart);
  const out = workArray("output", window.rows * window.cols);
  return toImageOutput(image, convolveWindow2d(a, rotate180(k), window, method, out));
}
