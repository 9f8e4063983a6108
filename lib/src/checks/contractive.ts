import * as tf from "@tensorflow/tfjs";
import { makeRng, randomNormal } from "../core/random";
import { contractivePenalty } from "../losses/contractive";
import {
  callStudent,
  runCheck,
  type CheckCase,
  type CheckOptions,
  type CheckResult,
} from "./cases";
import { compareNumber, describeTolerance, readScalar, type Tolerance } from "./compare";
import { formatMatrix, formatList } from "./format";
import { findHint, type KnownMistake } from "./hints";
import {
  analyticGradient,
  centralDifferences,
  compareGradients,
  GRADIENT_RULE,
  leakCase,
} from "./tensors";

/** The signature of the student's function in exercise 3: the contractive penalty of a sigmoid encoder. */
export type ContractivePenaltyFunction = (
  W: tf.Tensor2D,
  b: tf.Tensor1D,
  x: tf.Tensor2D,
) => tf.Scalar;

/** Both sides compute in float32 and may sum in different orders. */
const TOLERANCE: Tolerance = { absolute: 1e-6, relative: 1e-4 };

interface Encoder {
  readonly W: number[][];
  readonly b: number[];
  readonly x: number[][];
}

/**
 * Computes, in float64 for each row of x, the slopes h_j (1 - h_j) of the sigmoid units
 * and the squared norms of W's columns, from which the known mistakes are built.
 */
function encoderParts(encoder: Encoder) {
  const { W, b, x } = encoder;
  const hidden = b.length;
  const columnNorms = b.map((_, j) => W.reduce((s, row) => s + row[j] ** 2, 0));
  const slopes = x.map((row) =>
    Array.from({ length: hidden }, (_, j) => {
      const z = row.reduce((s, v, i) => s + v * W[i][j], b[j]);
      const h = 1 / (1 + Math.exp(-z));
      return h * (1 - h);
    }),
  );
  return { columnNorms, slopes };
}

function knownMistakes(encoder: Encoder, expected: number): KnownMistake<number>[] {
  const { columnNorms, slopes } = encoderParts(encoder);
  const batch = encoder.x.length;
  const meanOverRows = (rowValue: (slope: number[]) => number) =>
    slopes.reduce((s, slope) => s + rowValue(slope), 0) / batch;
  const rowNorm = (slope: number[]) =>
    slope.reduce((s, d, j) => s + d ** 2 * columnNorms[j], 0);
  return [
    {
      hint: "average the per-example norms over the batch (tf.mean), do not sum them",
      value: () => expected * batch,
    },
    {
      hint: "square the slopes: dh_j/dx_i = h_j (1 - h_j) W_ij, and the norm squares it",
      value: () => meanOverRows((s) => s.reduce((t, d, j) => t + d * columnNorms[j], 0)),
    },
    {
      hint: "the penalty is the squared Frobenius norm: do not take the square root",
      value: () => meanOverRows((s) => Math.sqrt(rowNorm(s))),
    },
    {
      hint: "multiply each squared slope by the squared norm of W's column j, sum_i W_ij^2",
      value: () => meanOverRows((s) => s.reduce((t, d) => t + d ** 2, 0)),
    },
  ];
}

function describeEncoder({ W, b, x }: Encoder): string {
  return [
    `W = ${formatMatrix(W)}`,
    `b = ${formatList(b)}`,
    `x = ${formatMatrix(x)}`,
  ].join("\n");
}

function tensorsOf({ W, b, x }: Encoder): [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D] {
  return [tf.tensor2d(W), tf.tensor1d(b), tf.tensor2d(x)];
}

function valueCase(
  fn: ContractivePenaltyFunction,
  name: string,
  encoder: Encoder,
): CheckCase {
  return {
    name,
    input: describeEncoder(encoder),
    run: () => {
      const [W, b, x] = tensorsOf(encoder);
      const expected = contractivePenalty(W, b, x).dataSync()[0];
      const received = readScalar(callStudent(fn, W, b, x));
      const mistakes = knownMistakes(encoder, expected);
      const hint = findHint(received, expected, TOLERANCE, mistakes);
      return compareNumber(received, expected, TOLERANCE, hint);
    },
  };
}

/** Draws a seeded encoder of the given sizes: weights ~ N(0, 0.5^2), biases ~ N(0, 0.1^2), x in [0, 1). */
function randomEncoder(
  inputs: number,
  hidden: number,
  batch: number,
  seed: number,
): Encoder {
  const rng = makeRng(seed);
  const matrix = (rows: number, cols: number, draw: () => number) =>
    Array.from({ length: rows }, () => Array.from({ length: cols }, draw));
  const W = matrix(inputs, hidden, () => Math.fround(0.5 * randomNormal(rng)));
  const b = Array.from({ length: hidden }, () => Math.fround(0.1 * randomNormal(rng)));
  const x = matrix(batch, inputs, () => Math.fround(rng()));
  return { W, b, x };
}

function randomCase(fn: ContractivePenaltyFunction, seed: number): CheckCase {
  const rng = makeRng(seed);
  const inputs = 1 + Math.floor(rng() * 12);
  const hidden = 1 + Math.floor(rng() * 8);
  const batch = 1 + Math.floor(rng() * 6);
  const name = `random input (seed ${seed}, ${inputs} inputs, ${hidden} hidden, batch ${batch})`;
  return valueCase(fn, name, randomEncoder(inputs, hidden, batch, seed + 1000));
}

function gradientCase(fn: ContractivePenaltyFunction, encoder: Encoder): CheckCase {
  return {
    name: "gradient: tf.grad agrees with central differences (W and b)",
    input: describeEncoder(encoder),
    run: () => {
      const [W, b, x] = tensorsOf(encoder);
      const penalty = (w: tf.Tensor, bias: tf.Tensor) =>
        fn(w as tf.Tensor2D, bias as tf.Tensor1D, x);
      const analytic = analyticGradient(penalty, [W, b]);
      if (!(analytic instanceof Float64Array)) return analytic;
      const numericW = centralDifferences(
        (w) => readScalar(callStudent(penalty, w, b)),
        W,
      );
      const numericB = centralDifferences(
        (bias) => readScalar(callStudent(penalty, W, bias)),
        b,
      );
      const numeric = Float64Array.from([...numericW, ...numericB]);
      const hidden = encoder.b.length;
      const label = (i: number) =>
        i < W.size ? `W[${Math.floor(i / hidden)}][${i % hidden}]` : `b[${i - W.size}]`;
      return compareGradients(analytic, numeric, label);
    },
  };
}

/**
 * Checks a student's contractive penalty against `contractivePenalty`, the exercise of
 * notebooks/exercises/ex3-contractive-penalty.ipynb: the squared Frobenius norm of the
 * Jacobian of h = sigmoid(x W + b) with respect to x, averaged over the rows of x. The
 * cases cover fixed and seeded random encoders, a zero kernel, one hidden unit, one
 * example, large weights, tensor leaks, and the gradient with respect to W and b:
 * tf.grad of the student's function against its central differences.
 *
 * @returns the result of every case, after printing a one-line summary
 * @throws CheckFailedError listing each failed case with its input, the expected and the
 *   received values, when any case fails
 */
export function checkContractivePenalty(
  fn: ContractivePenaltyFunction,
  options?: CheckOptions,
): CheckResult {
  const small: Encoder = {
    W: [
      [0.5, -1.0, 0.25],
      [1.5, 0.0, -0.5],
      [-0.75, 2.0, 1.0],
      [0.1, 0.3, -1.2],
    ],
    b: [0.1, -0.2, 0.3],
    x: [
      [1.0, 0.0, -1.0, 0.5],
      [0.2, 0.4, 0.6, 0.8],
    ],
  };
  const zeroKernel: Encoder = {
    ...randomEncoder(3, 2, 2, 51),
    W: [
      [0, 0],
      [0, 0],
      [0, 0],
    ],
  };
  const base = randomEncoder(5, 3, 2, 52);
  const scaled: Encoder = {
    ...base,
    W: base.W.map((row) => row.map((v) => 40 * v)),
  };
  const cases = [
    valueCase(fn, "4 inputs, 3 hidden units, 2 examples", small),
    valueCase(fn, "zero kernel gives 0", zeroKernel),
    valueCase(fn, "one hidden unit", randomEncoder(6, 1, 3, 53)),
    valueCase(fn, "one example", randomEncoder(5, 4, 1, 54)),
    valueCase(fn, "large weights (W x 40)", scaled),
    randomCase(fn, 1),
    randomCase(fn, 2),
    randomCase(fn, 3),
    leakCase(
      describeEncoder(small),
      () => tensorsOf(small),
      ([W, b, x]) =>
        callStudent(fn, W as tf.Tensor2D, b as tf.Tensor1D, x as tf.Tensor2D),
    ),
    gradientCase(fn, small),
  ];
  const tolerance = `values within ${describeTolerance(TOLERANCE)}; ${GRADIENT_RULE}`;
  return runCheck("checkContractivePenalty", fn, tolerance, cases, options);
}
