import * as tf from "@tensorflow/tfjs";
import { ResultMismatch, type Failure } from "./cases";
import { formatMatrix, formatNumber, formatValue } from "./format";

/** A comparison rule: |received - expected| <= absolute + relative * |expected|. */
export interface Tolerance {
  readonly absolute: number;
  readonly relative: number;
}

/** Writes a tolerance as the rule it applies, such as "|received - expected| <= 1e-6 + 1e-4 |expected|". */
export function describeTolerance(tolerance: Tolerance): string {
  const format = (v: number) => (v !== 0 && v < 1e-3 ? v.toExponential() : String(v));
  const relative =
    tolerance.relative > 0 ? ` + ${format(tolerance.relative)} |expected|` : "";
  return `|received - expected| <= ${format(tolerance.absolute)}${relative}`;
}

/** Reports whether `received` is within `tolerance` of `expected`; NaN never is. */
export function isClose(
  received: number,
  expected: number,
  tolerance: Tolerance,
): boolean {
  if (!Number.isFinite(expected)) return received === expected;
  const allowed = tolerance.absolute + tolerance.relative * Math.abs(expected);
  return Math.abs(received - expected) <= allowed;
}

/** Reports whether two matrices have the same size and are close entry by entry. */
export function matricesClose(
  received: readonly ArrayLike<number>[],
  expected: readonly ArrayLike<number>[],
  tolerance: Tolerance,
): boolean {
  return (
    received.length === expected.length &&
    expected.every(
      (row, r) =>
        received[r].length === row.length &&
        Array.from(row).every((v, c) => isClose(received[r][c], v, tolerance)),
    )
  );
}

/**
 * Compares two matrices of the same size and describes the mismatches: how many
 * entries differ and the first one, in row-major order. Returns undefined when all
 * entries are close.
 */
export function describeMatrixMismatch(
  received: readonly ArrayLike<number>[],
  expected: readonly ArrayLike<number>[],
  tolerance: Tolerance,
): string | undefined {
  let count = 0;
  let first = "";
  expected.forEach((row, r) => {
    for (let c = 0; c < row.length; c++) {
      if (isClose(received[r][c], row[c], tolerance)) continue;
      if (count === 0) {
        const got = formatNumber(received[r][c]);
        first = `[${r}][${c}]: expected ${formatNumber(row[c])}, received ${got}`;
      }
      count++;
    }
  });
  if (count === 0) return undefined;
  const entries = expected.length * (expected[0]?.length ?? 0);
  return `${count} of ${entries} entries differ; the first is ${first}`;
}

/** Compares one number and returns the failure, or undefined when it is close. */
export function compareNumber(
  received: number,
  expected: number,
  tolerance: Tolerance,
  hint?: string,
): Failure | undefined {
  if (isClose(received, expected, tolerance)) return undefined;
  return {
    expected: formatNumber(expected),
    received: formatNumber(received),
    detail: `difference ${formatNumber(Math.abs(received - expected))}`,
    ...(hint === undefined ? {} : { hint }),
  };
}

/** Compares two matrices and returns the failure, or undefined when they are close. */
export function compareMatrix(
  received: readonly ArrayLike<number>[],
  expected: readonly ArrayLike<number>[],
  tolerance: Tolerance,
  hint?: string,
): Failure | undefined {
  const rows = expected.length;
  const cols = expected[0]?.length ?? 0;
  const size = (m: readonly ArrayLike<number>[]) => `${m.length} x ${m[0]?.length ?? 0}`;
  const sameSize = received.length === rows && received.every((r) => r.length === cols);
  const detail = sameSize
    ? describeMatrixMismatch(received, expected, tolerance)
    : `the size is ${size(received)}, expected ${rows} x ${cols}`;
  if (detail === undefined) return undefined;
  return {
    expected: formatMatrix(expected),
    received: formatMatrix(received),
    detail,
    ...(hint === undefined ? {} : { hint }),
  };
}

function mismatch(expected: string, value: unknown, hint?: string): never {
  throw new ResultMismatch({
    expected,
    received: formatValue(value),
    ...(hint === undefined ? {} : { hint }),
  });
}

/** A hint for a function that returned nothing. */
const RETURN_HINT = "the function returned nothing: add a return statement";

/**
 * Reads the value of a tf.Scalar that the checked function returned, or throws a
 * ResultMismatch that describes what it returned instead.
 */
export function readScalar(value: unknown): number {
  const expected = "a tf.Scalar (a tensor of rank 0)";
  if (value === undefined) mismatch(expected, value, RETURN_HINT);
  if (typeof value === "number") {
    mismatch(
      expected,
      value,
      "return a tensor built from TensorFlow.js operations (such as tf.sum), " +
        "not a number, so that tf.grad can differentiate it",
    );
  }
  if (!(value instanceof tf.Tensor)) mismatch(expected, value);
  if (value.isDisposed) {
    mismatch(expected, value, "return the result of tf.tidy rather than disposing it");
  }
  if (value.rank !== 0) {
    mismatch(expected, value, "reduce the result to one number, for example with tf.sum");
  }
  return value.dataSync()[0];
}

/**
 * Reads a 2-D tensor that the checked function returned, as rows of numbers, or throws
 * a ResultMismatch when it is not a live 2-D tensor of the expected shape.
 */
export function readMatrixTensor(
  value: unknown,
  shape: readonly number[],
  shapeHint?: string,
): number[][] {
  const expected = `a float32 tensor of shape [${shape.join(", ")}]`;
  if (value === undefined) mismatch(expected, value, RETURN_HINT);
  if (!(value instanceof tf.Tensor)) mismatch(expected, value);
  if (value.isDisposed) {
    mismatch(expected, value, "return the result of tf.tidy rather than disposing it");
  }
  const actual: readonly number[] = value.shape;
  const sameShape = value.rank === 2 && actual.every((d, i) => d === shape[i]);
  if (!sameShape) mismatch(expected, value, shapeHint);
  return value.arraySync() as number[][];
}

/**
 * Reads a matrix (an array of rows of numbers) that the checked function returned, or
 * throws a ResultMismatch that describes what it returned instead.
 */
export function readMatrix(value: unknown): number[][] {
  const expected = "an array of rows of numbers (number[][])";
  if (value === undefined) mismatch(expected, value, RETURN_HINT);
  const isRow = (row: unknown) =>
    Array.isArray(row) || (ArrayBuffer.isView(row) && !(row instanceof DataView));
  if (!Array.isArray(value) || value.length === 0 || !value.every(isRow)) {
    mismatch(expected, value);
  }
  const rows = (value as ArrayLike<unknown>[]).map((row) => Array.from(row));
  rows.forEach((row, r) => {
    const bad = row.findIndex((v) => typeof v !== "number");
    if (bad >= 0) {
      mismatch(expected, value, `entry [${r}][${bad}] is ${formatValue(row[bad])}`);
    }
  });
  return rows as number[][];
}

/**
 * Returns the failure when the checked function changed one of its array inputs, given
 * as [name, the value passed in, a copy taken before the call].
 */
export function compareUnchanged(
  inputs: readonly [string, readonly ArrayLike<number>[], readonly ArrayLike<number>[]][],
): Failure | undefined {
  const exact: Tolerance = { absolute: 0, relative: 0 };
  const changed = inputs.filter(
    ([, passed, copy]) => !matricesClose(passed, copy, exact),
  );
  if (changed.length === 0) return undefined;
  const show = (index: 1 | 2) =>
    changed.map((entry) => `${entry[0]} = ${formatMatrix(entry[index])}`).join("\n");
  return {
    expected: `the inputs unchanged by the call:\n${show(2)}`,
    received: show(1),
    hint: "write the result into a new array, not into the inputs",
  };
}
