import * as tf from "@tensorflow/tfjs";
import { makeRng } from "../core/random";
import { klSparsityPenalty } from "../losses/sparsity";
import {
  callStudent,
  runCheck,
  type CheckCase,
  type CheckOptions,
  type CheckResult,
} from "./cases";
import { compareNumber, describeTolerance, readScalar, type Tolerance } from "./compare";
import { formatList } from "./format";
import { findHint, type KnownMistake } from "./hints";
import {
  analyticGradient,
  centralDifferences,
  compareGradients,
  GRADIENT_RULE,
  leakCase,
} from "./tensors";

/** The signature of the student's function in exercise 1: the KL sparsity penalty on a tensor. */
export type KlSparsityPenaltyFunction = (rho: number, rhoHat: tf.Tensor1D) => tf.Scalar;

/**
 * Tolerance of the penalty. Both sides compute in float32 (about 7 digits) and may sum
 * the units in different orders, which changes the last digits of a sum of 64 terms.
 */
const TOLERANCE: Tolerance = { absolute: 1e-6, relative: 1e-4 };

const CLAMP_HINT =
  "rhoHat = 0 or 1 makes a logarithm infinite: clamp rhoHat to " +
  "[2^-23, 1 - 2^-23] with tf.clipByValue before taking logarithms";

/** Computes the penalty in float64 for rhoHat rounded to float32, the values the tensor contains. */
function expectedPenalty(rho: number, rhoHat: readonly number[]): number {
  return klSparsityPenalty(rho, rhoHat.map(Math.fround));
}

function knownMistakes(rho: number, rhoHat: readonly number[]): KnownMistake<number>[] {
  const clamped = rhoHat.map((p) => Math.min(1 - 2 ** -23, Math.max(2 ** -23, p)));
  const sum = (term: (p: number) => number) => clamped.reduce((s, p) => s + term(p), 0);
  return [
    {
      hint: "sum the KL divergences over the units, not their mean (tf.sum, not tf.mean)",
      value: () => expectedPenalty(rho, rhoHat) / rhoHat.length,
    },
    {
      hint:
        "the arguments are swapped: the penalty is KL(rho || rhoHat) = " +
        "rho log(rho / rhoHat) + (1 - rho) log((1 - rho) / (1 - rhoHat))",
      value: () =>
        sum((p) => p * Math.log(p / rho) + (1 - p) * Math.log((1 - p) / (1 - rho))),
    },
    {
      hint: "add the second term, (1 - rho) log((1 - rho) / (1 - rhoHat))",
      value: () => sum((p) => rho * Math.log(rho / p)),
    },
  ];
}

function valueCase(
  fn: KlSparsityPenaltyFunction,
  name: string,
  rho: number,
  rhoHat: number[],
): CheckCase {
  return {
    name,
    input: `rho = ${rho}, rhoHat = ${formatList(rhoHat)}`,
    run: () => {
      const expected = expectedPenalty(rho, rhoHat);
      const received = readScalar(callStudent(fn, rho, tf.tensor1d(rhoHat)));
      const clampCase = rhoHat.some((p) => p === 0 || p === 1);
      const fallback = clampCase
        ? "clamp rhoHat to exactly [2^-23, 1 - 2^-23], the float32 machine epsilon"
        : undefined;
      const hint = Number.isFinite(received)
        ? findHint(received, expected, TOLERANCE, knownMistakes(rho, rhoHat), fallback)
        : CLAMP_HINT;
      return compareNumber(received, expected, TOLERANCE, hint);
    },
  };
}

function randomCase(fn: KlSparsityPenaltyFunction, seed: number): CheckCase {
  const rng = makeRng(seed);
  const units = 1 + Math.floor(rng() * 64);
  const rho = Number((0.01 + 0.49 * rng()).toFixed(3));
  const rhoHat = Array.from({ length: units }, () => rng());
  return valueCase(fn, `random input (seed ${seed}, ${units} units)`, rho, rhoHat);
}

function gradientCase(fn: KlSparsityPenaltyFunction): CheckCase {
  const rho = 0.05;
  const rhoHat = [0.1, 0.25, 0.5, 0.8];
  return {
    name: "gradient: tf.grad agrees with central differences",
    input: `rho = ${rho}, rhoHat = ${formatList(rhoHat)}`,
    run: () => {
      const x = tf.tensor1d(rhoHat);
      const penalty = (p: tf.Tensor) => fn(rho, p as tf.Tensor1D);
      const analytic = analyticGradient(penalty, [x]);
      if (!(analytic instanceof Float64Array)) return analytic;
      const evaluate = (p: tf.Tensor) => readScalar(callStudent(penalty, p));
      const numeric = centralDifferences(evaluate, x);
      return compareGradients(analytic, numeric, (i) => `rhoHat[${i}]`);
    },
  };
}

/**
 * Checks a student's KL sparsity penalty against `klSparsityPenalty`, the exercise of
 * notebooks/exercises/ex1-kl-sparsity.ipynb. The cases cover fixed and seeded random
 * inputs, rhoHat near and at 0 and 1 (where the penalty must clamp rhoHat to
 * [2^-23, 1 - 2^-23]), tensor leaks, and the gradient: tf.grad of the student's function
 * against its central differences.
 *
 * @returns the result of every case, after printing a one-line summary
 * @throws CheckFailedError listing each failed case with its input, the expected and the
 *   received values, when any case fails
 */
export function checkKlSparsityPenalty(
  fn: KlSparsityPenaltyFunction,
  options?: CheckOptions,
): CheckResult {
  const cases = [
    valueCase(fn, "one unit at the target", 0.05, [0.05]),
    valueCase(fn, "three units", 0.05, [0.1, 0.02, 0.5]),
    valueCase(fn, "rho = 0.2", 0.2, [0.2, 0.6, 0.9, 0.01]),
    valueCase(fn, "rhoHat near 0 and 1", 0.05, [1e-6, 1e-3, 0.999, 1 - 1e-6]),
    valueCase(fn, "rhoHat exactly 0 and 1 (clamped)", 0.05, [0, 1]),
    randomCase(fn, 1),
    randomCase(fn, 2),
    randomCase(fn, 3),
    leakCase(
      "rho = 0.05, rhoHat = [0.1, 0.5]",
      () => [tf.tensor1d([0.1, 0.5])],
      ([rhoHat]) => callStudent(fn, 0.05, rhoHat as tf.Tensor1D),
    ),
    gradientCase(fn),
  ];
  const tolerance = `values within ${describeTolerance(TOLERANCE)}; ${GRADIENT_RULE}`;
  return runCheck("checkKlSparsityPenalty", fn, tolerance, cases, options);
}
