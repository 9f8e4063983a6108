import { makeRng, randomNormal, type Rng } from "../core/random";
import { MAX_ARRAY_LENGTH, checkFinite, checkInteger, invalid } from "../core/validate";
import { invalidDescribed, readSignal } from "./input";

/**
 * A discrete-time system: a function from an input signal to an output signal. It gets
 * a fresh array on every call, so it may modify its argument.
 */
export type System = (x: number[]) => ArrayLike<number>;

/** Options of `isLinear` and `isShiftInvariant`. */
export interface ProbeOptions {
  /** Number of random trials (default 20). */
  readonly trials?: number;
  /** Samples in each random input (default 64, at least 8 for `isShiftInvariant`). */
  readonly length?: number;
  /**
   * Largest deviation accepted, relative to the size of the outputs compared (see
   * `ProbeResult.maxDeviation`). The default, 1e-9, is far above float64 rounding.
   */
  readonly tolerance?: number;
  /** Seed of the random inputs (default 0). The same seed draws the same inputs. */
  readonly seed?: number;
}

/** The verdict of `isLinear` or `isShiftInvariant`. */
export interface ProbeResult {
  /** Whether `maxDeviation` <= `tolerance`. */
  readonly passed: boolean;
  /**
   * The largest difference between the two outputs that should agree, over all samples
   * and trials, divided by the size of the outputs in that trial: the largest
   * |αS(x1)| + |βS(x2)| for `isLinear`, the largest |S(x)| for `isShiftInvariant`, or 1
   * when that is 0.
   */
  readonly maxDeviation: number;
  readonly tolerance: number;
  readonly trials: number;
}

interface Probe {
  readonly trials: number;
  readonly length: number;
  readonly tolerance: number;
  readonly rng: Rng;
}

function readProbeOptions(fn: string, options: unknown, minLength: number): Probe {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    invalid(fn, "options", "be an object such as { trials: 20, seed: 0 }", options);
  }
  const {
    trials = 20,
    length = 64,
    tolerance = 1e-9,
    seed = 0,
  } = options as ProbeOptions;
  checkInteger(fn, "options.trials", trials, 1);
  checkInteger(fn, "options.length", length, minLength);
  checkFinite(fn, "options.tolerance", tolerance);
  if (tolerance < 0) invalid(fn, "options.tolerance", "be >= 0", tolerance);
  checkInteger(fn, "options.seed", seed);
  return { trials, length, tolerance, rng: makeRng(seed) };
}

/** Checks the number of input samples: an integer in [1, MAX_ARRAY_LENGTH]. */
function checkLength(fn: string, n: unknown): void {
  const length = checkInteger(fn, "n", n, 1);
  // Beyond it, copying the signal into a plain array throws a RangeError or aborts Node
  if (length > MAX_ARRAY_LENGTH) {
    invalid(
      fn,
      "n",
      `be at most ${MAX_ARRAY_LENGTH} (2^26, the longest array the kit builds)`,
      length,
    );
  }
}

function checkSystem(fn: string, system: unknown): asserts system is System {
  if (typeof system !== "function") {
    invalid(fn, "system", "be a function from a signal (number[]) to a signal", system);
  }
}

/** Calls the system on a copy of `x` and validates what it returns. */
function run(fn: string, system: System, x: ArrayLike<number>): Float64Array {
  return readSignal(fn, "the system's output", system(Array.from(x)));
}

/**
 * Runs the system like `run` and checks that it returns at least one sample per input
 * sample. A longer output is fine: a 'full' convolution appends the kernel's tail.
 */
function runFullLength(fn: string, system: System, x: Float64Array): Float64Array {
  const y = run(fn, system, x);
  if (y.length < x.length) {
    invalidDescribed(
      fn,
      "system",
      `return at least as many samples as its input (${x.length})`,
      `an output of length ${y.length}`,
    );
  }
  return y;
}

function checkSameLength(fn: string, first: Float64Array, second: Float64Array): void {
  if (first.length !== second.length) {
    invalidDescribed(
      fn,
      "system",
      "return outputs of one length for inputs of one length",
      `outputs of length ${first.length} and ${second.length}`,
    );
  }
}

function randomSignal(rng: Rng, length: number): Float64Array {
  const x = new Float64Array(length);
  for (let i = 0; i < length; i++) x[i] = randomNormal(rng);
  return x;
}

function maxAbs(values: Float64Array): number {
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  return max;
}

/**
 * Returns the output of `system` for the unit impulse of n samples, δ = [1, 0, 0, ...].
 * For a linear shift-invariant system this is its impulse response h, and its output for
 * any input x is the convolution of x with h.
 *
 * @param system - a function from a signal (number[]) to a signal
 * @param n - the number of input samples, an integer in [1, 2^26]
 * @throws AekitError when `system` is not a function, n is not a positive integer, or the
 *   system returns something other than an array of at least n finite numbers
 *
 * @example
 * impulseResponse((x) => lfilter([0.5], [1, -0.5], x), 4); // [0.5, 0.25, 0.125, 0.0625]
 *
 * See also: `stepResponse`, `isLinear`, `isShiftInvariant`, `lfilter`.
 */
export function impulseResponse(system: System, n: number): number[] {
  checkSystem("impulseResponse", system);
  checkLength("impulseResponse", n);

  const impulse = new Float64Array(n);
  impulse[0] = 1;
  return Array.from(runFullLength("impulseResponse", system, impulse));
}

/**
 * Returns the output of `system` for the unit step of n samples, u = [1, 1, 1, ...].
 * For a linear shift-invariant system, sample i is the running sum h[0] + ... + h[i] of
 * its impulse response.
 *
 * @param system - a function from a signal (number[]) to a signal
 * @param n - the number of input samples, an integer in [1, 2^26]
 * @throws AekitError when `system` is not a function, n is not a positive integer, or the
 *   system returns something other than an array of at least n finite numbers
 *
 * See also: `impulseResponse`, `lfilter`.
 */
export function stepResponse(system: System, n: number): number[] {
  checkSystem("stepResponse", system);
  checkLength("stepResponse", n);

  return Array.from(runFullLength("stepResponse", system, new Float64Array(n).fill(1)));
}

/**
 * Tests a black-box system for linearity, S(αx1 + βx2) = αS(x1) + βS(x2), on seeded
 * random inputs. Each trial draws x1 and x2 with standard normal samples and α and β
 * standard normal, and measures the largest |S(αx1 + βx2) - (αS(x1) + βS(x2))| divided
 * by the largest |αS(x1)| + |βS(x2)| of that trial.
 *
 * Passing is evidence, not proof: a system that is linear only on these inputs passes.
 * A failing trial is a counterexample, up to the tolerance. An affine system such as
 * x + 1 fails, because a linear system maps 0 to 0.
 *
 * @param system - a function from a signal (number[]) to a signal
 * @param options - trials (20), length (64), tolerance (1e-9), seed (0)
 * @returns `{ passed, maxDeviation, tolerance, trials }`
 * @throws AekitError on a bad option, or when the system returns non-finite values or
 *   outputs whose length varies between calls
 *
 * @example
 * isLinear((x) => convolve(x, [1 / 3, 1 / 3, 1 / 3])).passed; // true
 * isLinear((x) => x.map((v) => v * v)).passed; // false
 *
 * See also: `isShiftInvariant`, `impulseResponse`.
 */
export function isLinear(system: System, options?: ProbeOptions): ProbeResult {
  checkSystem("isLinear", system);
  const probe = readProbeOptions("isLinear", options, 1);

  let maxDeviation = 0;
  for (let trial = 0; trial < probe.trials; trial++) {
    const x1 = randomSignal(probe.rng, probe.length);
    const x2 = randomSignal(probe.rng, probe.length);
    const alpha = randomNormal(probe.rng);
    const beta = randomNormal(probe.rng);
    const mixed = x1.map((v, i) => alpha * v + beta * x2[i]);

    const y1 = run("isLinear", system, x1);
    const y2 = run("isLinear", system, x2);
    const y = run("isLinear", system, mixed);
    checkSameLength("isLinear", y1, y);
    checkSameLength("isLinear", y2, y);
    let scale = 0;
    let deviation = 0;
    for (let i = 0; i < y.length; i++) {
      scale = Math.max(scale, Math.abs(alpha * y1[i]) + Math.abs(beta * y2[i]));
      deviation = Math.max(deviation, Math.abs(y[i] - (alpha * y1[i] + beta * y2[i])));
    }
    maxDeviation = Math.max(maxDeviation, deviation / (scale > 0 ? scale : 1));
  }
  return {
    passed: maxDeviation <= probe.tolerance,
    maxDeviation,
    tolerance: probe.tolerance,
    trials: probe.trials,
  };
}

/**
 * Tests a black-box system for shift invariance (time invariance): delaying the input by
 * k samples delays the output by k samples. Each trial draws x with standard normal
 * samples on its middle quarter, [length / 4, length / 2), and zeros elsewhere, and a
 * delay k in 1 .. length / 4. With xk the input delayed by k, it measures the largest
 * |S(xk)[m] - S(x)[m - k]| over m = k .. output length - 1, divided by the largest
 * |S(x)| of the trial.
 *
 * The zeros around x leave room for the delay and for systems that look ahead or back up
 * to length / 4 samples (a centred moving average), so edge effects do not count as
 * failures. Passing is evidence, not proof.
 *
 * @param system - a function from a signal (number[]) to a signal
 * @param options - trials (20), length (64, at least 8), tolerance (1e-9), seed (0)
 * @returns `{ passed, maxDeviation, tolerance, trials }`
 * @throws AekitError on a bad option, or when the system returns non-finite values or
 *   outputs whose length varies between calls
 *
 * @example
 * isShiftInvariant((x) => x.map((v) => v * v)).passed; // true
 * isShiftInvariant((x) => x.map((v, n) => n * v)).passed; // false
 *
 * See also: `isLinear`, `impulseResponse`.
 */
export function isShiftInvariant(system: System, options?: ProbeOptions): ProbeResult {
  checkSystem("isShiftInvariant", system);
  const probe = readProbeOptions("isShiftInvariant", options, 8);

  const quarter = Math.floor(probe.length / 4);
  let maxDeviation = 0;
  for (let trial = 0; trial < probe.trials; trial++) {
    const x = new Float64Array(probe.length);
    for (let i = quarter; i < 2 * quarter; i++) x[i] = randomNormal(probe.rng);
    const delay = 1 + Math.floor(probe.rng() * quarter);
    const delayed = new Float64Array(probe.length);
    delayed.set(x.subarray(0, probe.length - delay), delay);

    const y = run("isShiftInvariant", system, x);
    const yDelayed = run("isShiftInvariant", system, delayed);
    checkSameLength("isShiftInvariant", y, yDelayed);
    let deviation = 0;
    for (let m = delay; m < y.length; m++) {
      deviation = Math.max(deviation, Math.abs(yDelayed[m] - y[m - delay]));
    }
    const scale = maxAbs(y);
    maxDeviation = Math.max(maxDeviation, deviation / (scale > 0 ? scale : 1));
  }
  return {
    passed: maxDeviation <= probe.tolerance,
    maxDeviation,
    tolerance: probe.tolerance,
    trials: probe.trials,
  };
}
