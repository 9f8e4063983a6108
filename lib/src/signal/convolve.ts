import { MAX_ARRAY_LENGTH, checkInteger, invalid } from "../core/validate";
import { convolveDirect, directCost } from "./direct";
import { planBlocks } from "./fft";
import { convolveFftParallel } from "./parallel";
import {
  readMethod,
  readMode,
  readSignal,
  readSignalView,
  toSignalOutput,
  type ConvolveOptions,
  type ConvolveMethod,
  type ConvolveMode,
  type Signal1D,
  type Signal1DOutput,
} from "./input";

/** The part [start, start + length) of the full output that a mode keeps. */
export interface Window {
  readonly start: number;
  readonly length: number;
}

/**
 * Returns the window of the full convolution that scipy.signal.convolve and correlate
 * (SciPy 1.10) keep in 1-D, for a first input of n samples and a second of m samples.
 * For an even m, 'same' cuts one more sample from the end of the full output than from
 * its start. 'valid' lets the longer input play the signal, as scipy does by swapping
 * the inputs.
 */
export function modeWindow(mode: ConvolveMode, n: number, m: number): Window {
  if (mode === "full") return { start: 0, length: n + m - 1 };
  if (mode === "same") return { start: Math.floor((m - 1) / 2), length: n };
  return { start: Math.min(n, m) - 1, length: Math.abs(n - m) + 1 };
}

/** Computes a window of the full convolution of x and h with the requested method. */
function convolveWindow(
  x: Float64Array,
  h: Float64Array,
  window: Window,
  method: ConvolveMethod,
): Float64Array {
  // the convolution is symmetric in x and h, and overlap-save wants the shorter kernel
  const [signal, kernel] = h.length > x.length ? [h, x] : [x, h];
  const blocks = planBlocks(kernel.length, window.length);
  // besides its multiply-adds, the direct sum spends about 5 of them per output
  const direct =
    directCost(signal.length, kernel.length, window.start, window.length) +
    5 * window.length;
  const useFft = method === "fft" || (method === "auto" && blocks.cost < direct);
  return useFft
    ? convolveFftParallel(
        signal,
        kernel,
        window.start,
        window.length,
        blocks.size,
        blocks.cost,
      )
    : convolveDirect(signal, kernel, window.start, window.length);
}

/**
 * Convolves two 1-D signals, like scipy.signal.convolve.
 *
 * With N = x.length and M = h.length, the full convolution is
 *
 *     y[i] = sum_k h[k] x[i - k],   i = 0 .. N + M - 2,
 *
 * with x and h taken as zero outside their samples. The modes keep
 *
 * - 'full' (default): all N + M - 1 samples.
 * - 'same': N samples from i = floor((M - 1) / 2), centred on the full output. For an
 *   even M, one more sample is cut from the end than from the start, as in scipy.
 * - 'valid': the |N - M| + 1 samples that use no zero padding, i = M - 1 .. N - 1 when
 *   N >= M. When h is longer than x the inputs swap roles (i = N - 1 .. M - 1), as
 *   scipy.signal.convolve does.
 *
 * The output has the type of `x`: an Array for an Array, a Float32Array for a
 * Float32Array, and a Float64Array for any other typed array. The sums run in float64.
 *
 * @param x - the signal, a non-empty array of finite numbers
 * @param h - the kernel (impulse response), a non-empty array of finite numbers
 * @param mode - 'full', 'same' or 'valid'
 * @param options - `method`: 'auto' (default), 'direct' or 'fft'
 * @throws AekitError on an empty or non-numeric input, an unknown mode or method
 *
 * @example
 * convolve([1, 2, 3], [0, 1, 0.5]); // [0, 1, 2.5, 4, 1.5]
 *
 * See also: `correlate` (no kernel flip), `convolve2d`, `lfilter` (recursive filters).
 *
 * Reference: scipy.signal.convolve, SciPy 1.10 documentation. The tests compare
 * with values it computed.
 */
export function convolve<T extends Signal1D>(
  x: T,
  h: Signal1D,
  mode: ConvolveMode = "full",
  options?: ConvolveOptions,
): Signal1DOutput<T> {
  // neither input is written to, so Float64Array inputs are read in place
  const signal = readSignalView("convolve", "x", x);
  const kernel = readSignalView("convolve", "h", h);
  const checkedMode = readMode("convolve", mode);
  const method = readMethod("convolve", options);

  const window = modeWindow(checkedMode, signal.length, kernel.length);
  return toSignalOutput(x, convolveWindow(signal, kernel, window, method));
}

/**
 * Cross-correlates two 1-D signals, like scipy.signal.correlate.
 *
 * With N = x.length and M = h.length, the cross-correlation at lag k is
 *
 *     z[k] = sum_n x[n + k] h[n],   k = -(M - 1) .. N - 1,
 *
 * with x and h taken as zero outside their samples. If x is h delayed by d samples,
 * z peaks at k = d. The output lists z in increasing lag order, and the modes keep
 *
 * - 'full' (default): all N + M - 1 lags, -(M - 1) .. N - 1.
 * - 'same': N lags centred on the full output, -floor(M / 2) .. N - 1 - floor(M / 2).
 * - 'valid': the |N - M| + 1 lags that use no zero padding: 0 .. N - M when N >= M, and
 *   -(M - N) .. 0 when h is longer than x (scipy 1.10 returns the same values then).
 *
 * `correlationLags(N, M, mode)` returns these lags. correlate(x, h) equals
 * convolve(x, h reversed) in every mode. The output has the type of `x` (see
 * `convolve`), and the sums run in float64.
 *
 * @param x - the signal, a non-empty array of finite numbers
 * @param h - the template slid along x, a non-empty array of finite numbers
 * @param mode - 'full', 'same' or 'valid'
 * @param options - `method`: 'auto' (default), 'direct' or 'fft'
 * @throws AekitError on an empty or non-numeric input, an unknown mode or method
 *
 * @example
 * correlate([1, 2, 3], [0, 1, 0.5]); // [0.5, 2, 3.5, 3, 0], at lags -2 .. 2
 *
 * See also: `correlationLags`, `convolve`, `correlate2d`, `matchTemplate` (normalized).
 *
 * Reference: scipy.signal.correlate, SciPy 1.10 documentation. The tests compare
 * with values it computed.
 */
export function correlate<T extends Signal1D>(
  x: T,
  h: Signal1D,
  mode: ConvolveMode = "full",
  options?: ConvolveOptions,
): Signal1DOutput<T> {
  const signal = readSignalView("correlate", "x", x);
  // a copy, because it is reversed in place below
  const template = readSignal("correlate", "h", h);
  const checkedMode = readMode("correlate", mode);
  const method = readMethod("correlate", options);

  const window = modeWindow(checkedMode, signal.length, template.length);
  const reversed = template.reverse();
  return toSignalOutput(x, convolveWindow(signal, reversed, window, method));
}

/**
 * Returns the lags of `correlate(x, h, mode)` for x of n1 samples and h of n2 samples,
 * in output order, like scipy.signal.correlation_lags:
 *
 * - 'full': -(n2 - 1) .. n1 - 1, n1 + n2 - 1 lags.
 * - 'same': -floor(n2 / 2) .. n1 - 1 - floor(n2 / 2), n1 lags.
 * - 'valid': 0 .. n1 - n2 when n1 >= n2, else n1 - n2 .. 0, |n1 - n2| + 1 lags.
 *
 * NOTE: for 'same' with an odd n1 and an even n2, scipy 1.10's correlation_lags returns
 * each lag one too large for its own correlate output (for n1 = 3, n2 = 2 it returns
 * 0, 1, 2, where correlate's samples sit at lags -1, 0, 1). This function matches
 * correlate, so `lags[argmax(z)]` finds the delay in every mode.
 *
 * @example
 * const z = correlate(x, h);
 * const lags = correlationLags(x.length, h.length);
 * const delay = lags[z.indexOf(Math.max(...z))];
 *
 * See also: `correlate`.
 *
 * Reference: scipy.signal.correlation_lags, SciPy 1.10 documentation.
 */
export function correlationLags(
  n1: number,
  n2: number,
  mode: ConvolveMode = "full",
): number[] {
  checkInteger("correlationLags", "n1", n1, 1);
  checkInteger("correlationLags", "n2", n2, 1);
  const checkedMode = readMode("correlationLags", mode);

  const window = modeWindow(checkedMode, n1, n2);
  // n1 = 1e9 would otherwise abort the process when the lag array outgrows V8's limit
  if (window.length > MAX_ARRAY_LENGTH) {
    invalid(
      "correlationLags",
      `the number of lags in mode '${checkedMode}'`,
      `be at most ${MAX_ARRAY_LENGTH} (2^26, the longest array the kit builds)`,
      window.length,
    );
  }
  const lags: number[] = [];
  for (let i = 0; i < window.length; i++) lags.push(window.start + i - (n2 - 1));
  return lags;
}
