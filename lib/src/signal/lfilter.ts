import { invalid } from "../core/validate";
import { readSignal, toSignalOutput, type Signal1D, type Signal1DOutput } from "./input";

/**
 * Filters a signal with the linear difference equation of numerator b and denominator
 * a, from zero initial state, like scipy.signal.lfilter with its default `zi`:
 *
 *     a[0] y[n] = sum_{k=0}^{nb-1} b[k] x[n - k] - sum_{k=1}^{na-1} a[k] y[n - k],
 *
 * for n = 0 .. N - 1, with x[n] = y[n] = 0 for n < 0. Both coefficient arrays are divided
 * by a[0] first, so a[0] must not be 0. The output has N samples, the length of x, and
 * the type of x (see `convolve`). With a = [1] this is an FIR filter and equals
 * `convolve(x, b)` cut to its first N samples.
 *
 * The transfer function is H(z) = B(z) / A(z), with B(z) = sum_k b[k] z^-k and A(z)
 * likewise. The filter is stable when the roots of A(z) lie inside the unit circle.
 *
 * @param b - numerator coefficients, a non-empty array of finite numbers
 * @param a - denominator coefficients, a non-empty array of finite numbers, a[0] != 0
 * @param x - the input signal, a non-empty array of finite numbers
 * @throws AekitError on an empty or non-numeric argument, or a[0] = 0
 *
 * @example
 * lfilter([0.5], [1, -0.5], [1, 0, 0, 0]); // [0.5, 0.25, 0.125, 0.0625]
 *
 * See also: `convolve`, `impulseResponse`, `stepResponse`.
 *
 * Reference: scipy.signal.lfilter, SciPy 1.10 documentation. The tests compare
 * with values it computed.
 */
export function lfilter<T extends Signal1D>(
  b: Signal1D,
  a: Signal1D,
  x: T,
): Signal1DOutput<T> {
  const numerator = readSignal("lfilter", "b", b);
  const denominator = readSignal("lfilter", "a", a);
  const input = readSignal("lfilter", "x", x);
  const lead = denominator[0];
  if (lead === 0) {
    invalid("lfilter", "a[0]", "be nonzero, because the filter divides by it", lead);
  }

  for (let k = 0; k < numerator.length; k++) numerator[k] /= lead;
  for (let k = 0; k < denominator.length; k++) denominator[k] /= lead;
  const n = input.length;
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    const feedforward = Math.min(numerator.length, i + 1);
    for (let k = 0; k < feedforward; k++) sum += numerator[k] * input[i - k];
    const feedback = Math.min(denominator.length, i + 1);
    for (let k = 1; k < feedback; k++) sum -= denominator[k] * y[i - k];
    y[i] = sum;
  }
  return toSignalOutput(x, y);
}
