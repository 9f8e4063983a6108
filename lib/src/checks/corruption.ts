import * as tf from "@tensorflow/tfjs";
import { makeRng } from "../core/random";
import { maskingNoise } from "../data/corruptions";
import {
  callStudent,
  runCheck,
  type CheckCase,
  type CheckOptions,
  type CheckResult,
} from "./cases";
import {
  compareMatrix,
  describeTolerance,
  matricesClose,
  readMatrixTensor,
  type Tolerance,
} from "./compare";
import { formatMatrix, formatValue } from "./format";
import { findMatrixHint, type KnownMistake } from "./hints";
import { leakCase } from "./tensors";

/** The signature of the student's function in exercise 2: masking noise on a batch of inputs. */
export type MaskingNoiseFunction = (
  x: tf.Tensor2D,
  fraction: number,
  seed: number,
) => tf.Tensor2D;

/** Kept entries are copies and masked ones are 0, so only float32 rounding may differ. */
const TOLERANCE: Tolerance = { absolute: 1e-6, relative: 0 };

const DRAW_HINT =
  "draw one u = rng() per entry from rng = makeRng(seed), row by row " +
  "(row-major order), and set the entry to 0 where u < fraction";

/** Builds a matrix by drawing one uniform number per entry, row by row. */
function applyMask(
  x: readonly number[][],
  seed: number,
  masked: (u: number) => boolean,
  order: "rows" | "columns" = "rows",
): number[][] {
  const rng = makeRng(seed);
  const rows = x.length;
  const cols = x[0].length;
  const out = x.map((row) => [...row]);
  for (let i = 0; i < rows * cols; i++) {
    const [r, c] =
      order === "rows"
        ? [Math.floor(i / cols), i % cols]
        : [i % rows, Math.floor(i / rows)];
    if (masked(rng())) out[r][c] = 0;
  }
  return out;
}

function knownMistakes(
  x: number[][],
  fraction: number,
  seed: number,
): KnownMistake<number[][]>[] {
  return [
    {
      hint: "mask the entries where u < fraction, not where u >= fraction",
      value: () => applyMask(x, seed, (u) => u >= fraction),
    },
    {
      hint: "draw the numbers row by row (row-major order), not column by column",
      value: () => applyMask(x, seed, (u) => u < fraction, "columns"),
    },
    {
      hint:
        "leave the kept entries unchanged: masking noise does not rescale them " +
        "by 1 / (1 - fraction) as dropout does",
      value: () =>
        applyMask(x, seed, (u) => u < fraction).map((row) =>
          row.map((v) => v / (1 - fraction)),
        ),
    },
  ];
}

function describeInput(x: number[][], fraction: number, seed: number): string {
  return `fraction = ${fraction}, seed = ${seed}, x = ${formatMatrix(x)}`;
}

function valueCase(
  fn: MaskingNoiseFunction,
  name: string,
  x: number[][],
  fraction: number,
  seed: number,
): CheckCase {
  return {
    name,
    input: describeInput(x, fraction, seed),
    run: () => {
      const input = tf.tensor2d(x);
      const expected = maskingNoise(input, { fraction, seed }).arraySync();
      const shapeHint = "return a tensor of the same shape as x";
      const output = callStudent(fn, input, fraction, seed);
      const received = readMatrixTensor(output, input.shape, shapeHint);
      const mistakes = knownMistakes(x, fraction, seed);
      const hint = findMatrixHint(received, expected, TOLERANCE, mistakes, DRAW_HINT);
      return compareMatrix(received, expected, TOLERANCE, hint);
    },
  };
}

/** Draws a matrix of seeded uniform values in [0, 1), like pixels, rounded to float32. */
function randomMatrix(rows: number, cols: number, seed: number): number[][] {
  const rng = makeRng(seed);
  return Array.from({ length: rows }, () =>
    Array.from({ length: cols }, () => Math.fround(rng())),
  );
}

function randomCase(fn: MaskingNoiseFunction, seed: number): CheckCase {
  const rng = makeRng(seed);
  const rows = 1 + Math.floor(rng() * 8);
  const cols = 1 + Math.floor(rng() * 12);
  const fraction = Number(rng().toFixed(2));
  const name = `random input (seed ${seed}, ${rows} x ${cols})`;
  return valueCase(fn, name, randomMatrix(rows, cols, seed + 1000), fraction, seed);
}

function repeatCase(fn: MaskingNoiseFunction): CheckCase {
  const x = randomMatrix(3, 5, 21);
  const fraction = 0.5;
  const seed = 7;
  return {
    name: "the same seed gives the same output",
    input: describeInput(x, fraction, seed),
    run: () => {
      const input = tf.tensor2d(x);
      const first = readMatrixTensor(callStudent(fn, input, fraction, seed), input.shape);
      const second = readMatrixTensor(
        callStudent(fn, input, fraction, seed),
        input.shape,
      );
      if (matricesClose(second, first, TOLERANCE)) return undefined;
      return {
        expected: `the first call's output again:\n${formatMatrix(first)}`,
        received: formatMatrix(second),
        hint: "draw the noise from makeRng(seed), not from Math.random or tf.randomUniform",
      };
    },
  };
}

function inputUnchangedCase(fn: MaskingNoiseFunction): CheckCase {
  const x = randomMatrix(2, 6, 31);
  const fraction = 0.5;
  const seed = 5;
  return {
    name: "leaves x unchanged",
    input: describeInput(x, fraction, seed),
    run: () => {
      const input = tf.tensor2d(x);
      const before = input.arraySync();
      callStudent(fn, input, fraction, seed);
      if (input.isDisposed) {
        return {
          expected: "x still allocated after the call",
          received: formatValue(input),
          hint: "do not dispose x: the caller still needs it",
        };
      }
      const after = input.arraySync();
      if (matricesClose(after, before, TOLERANCE)) return undefined;
      return {
        expected: `x as it was before the call:\n${formatMatrix(before)}`,
        received: formatMatrix(after),
        hint:
          "x.dataSync() can return the tensor's own storage: copy it " +
          "(Float32Array.from(x.dataSync())) before changing entries",
      };
    },
  };
}

/**
 * Checks a student's masking noise against `maskingNoise`, the exercise of
 * notebooks/exercises/ex2-masking-noise.ipynb. The function must draw one u = rng() per
 * entry from rng = makeRng(seed), row by row, and set the entry to 0 where u < fraction,
 * so that the seed fixes the output. The cases cover fixed and seeded random inputs,
 * fractions 0 and 1, one row and one column, repeated seeds, an unchanged input and
 * tensor leaks.
 *
 * @returns the result of every case, after printing a one-line summary
 * @throws CheckFailedError listing each failed case with its input, the expected and the
 *   received values, when any case fails
 */
export function checkMaskingNoise(
  fn: MaskingNoiseFunction,
  options?: CheckOptions,
): CheckResult {
  const counting = [
    [1, 2, 3, 4],
    [5, 6, 7, 8],
    [9, 10, 11, 12],
  ].map((row) => row.map((v) => Math.fround(v / 12)));
  const cases = [
    valueCase(fn, "fraction 0.25", counting, 0.25, 0),
    repeatCase(fn),
    valueCase(fn, "fraction 0 keeps every entry", randomMatrix(2, 5, 41), 0, 3),
    valueCase(fn, "fraction 1 masks every entry", randomMatrix(2, 5, 42), 1, 4),
    valueCase(fn, "one row", randomMatrix(1, 10, 43), 0.5, 11),
    valueCase(fn, "one column", randomMatrix(10, 1, 44), 0.3, 12),
    randomCase(fn, 1),
    randomCase(fn, 2),
    randomCase(fn, 3),
    inputUnchangedCase(fn),
    leakCase(
      describeInput(counting, 0.25, 0),
      () => [tf.tensor2d(counting)],
      ([x]) => callStudent(fn, x as tf.Tensor2D, 0.25, 0),
    ),
  ];
  const tolerance = `entries within ${describeTolerance(TOLERANCE)}`;
  return runCheck("checkMaskingNoise", fn, tolerance, cases, options);
}
