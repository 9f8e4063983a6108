import * as tf from "@tensorflow/tfjs";
import { invalid } from "../core/validate";

/** A matrix stored row-major in one typed array. */
export interface FlatMatrix {
  /** The entries, row after row: `shape[0] * shape[1]` values. */
  data: Float32Array | Float64Array;
  /** [rows, columns]. */
  shape: readonly [number, number];
}

/** A matrix as the linear algebra functions accept it: rows, a FlatMatrix or a tensor. */
export type MatrixLike = number[][] | FlatMatrix | tf.Tensor2D;

/** A matrix copied into float64, row-major. */
export interface Float64Matrix {
  data: Float64Array;
  rows: number;
  columns: number;
}

function isFlatMatrix(value: unknown): value is FlatMatrix {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<FlatMatrix>;
  return (
    (candidate.data instanceof Float32Array || candidate.data instanceof Float64Array) &&
    Array.isArray(candidate.shape)
  );
}

/**
 * Checks that `rows` is an array of equal-length arrays of finite numbers, and returns
 * their common length (0 when there are no rows).
 */
export function checkRows(fn: string, argument: string, rows: unknown): number {
  if (!Array.isArray(rows)) {
    invalid(fn, argument, "be an array of rows (number[][]) or a tf.Tensor", rows);
  }
  const columns = Array.isArray(rows[0]) ? rows[0].length : 0;
  rows.forEach((row: unknown, i) => {
    if (!Array.isArray(row)) {
      invalid(fn, `${argument}[${i}]`, "be an array of numbers", row);
    }
    if (row.length !== columns) {
      invalid(fn, `${argument}[${i}]`, `have length ${columns} like ${argument}[0]`, row);
    }
    row.forEach((value: unknown, j) => {
      if (typeof value !== "number" || !Number.isFinite(value)) {
        invalid(fn, `${argument}[${i}][${j}]`, "be a finite number", value);
      }
    });
  });
  return columns;
}

function checkFiniteEntries(
  fn: string,
  argument: string,
  data: ArrayLike<number>,
  columns: number,
) {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const row = Math.floor(i / columns);
      invalid(
        fn,
        `${argument}[${row}][${i - row * columns}]`,
        "be a finite number",
        data[i],
      );
    }
  }
}

/**
 * Copies a matrix of any accepted kind into a float64 row-major array, after checking
 * its shape and that every entry is finite. A tensor is downloaded with dataSync.
 */
export function readMatrix(fn: string, argument: string, value: unknown): Float64Matrix {
  if (value instanceof tf.Tensor) {
    if (value.rank !== 2) invalid(fn, argument, "be a 2-D tensor [rows, columns]", value);
    const [rows, columns] = value.shape;
    const source = value.dataSync();
    checkFiniteEntries(fn, argument, source, columns);
    return { data: Float64Array.from(source), rows, columns };
  }
  if (isFlatMatrix(value)) {
    const [rows, columns] = value.shape;
    const shapeValid =
      value.shape.length === 2 &&
      Number.isInteger(rows) &&
      Number.isInteger(columns) &&
      rows >= 0 &&
      columns >= 0;
    if (!shapeValid) {
      invalid(
        fn,
        `${argument}.shape`,
        "be [rows, columns] with integers >= 0",
        value.shape,
      );
    }
    if (value.data.length !== rows * columns) {
      invalid(
        fn,
        `${argument}.data`,
        `have shape[0] * shape[1] = ${rows * columns} entries`,
        value.data,
      );
    }
    checkFiniteEntries(fn, argument, value.data, columns);
    return { data: Float64Array.from(value.data), rows, columns };
  }
  if (!Array.isArray(value)) {
    invalid(
      fn,
      argument,
      "be number[][], a tf.Tensor2D or { data, shape: [rows, columns] }",
      value,
    );
  }
  const columns = checkRows(fn, argument, value);
  const rows = value.length;
  const data = new Float64Array(rows * columns);
  value.forEach((row: number[], i) => data.set(row, i * columns));
  return { data, rows, columns };
}

/** Returns row-major float64 data as rows of numbers. */
export function toRows(
  data: ArrayLike<number>,
  rows: number,
  columns: number,
): number[][] {
  const result: number[][] = [];
  for (let i = 0; i < rows; i++) {
    result.push(Array.from({ length: columns }, (_, j) => data[i * columns + j]));
  }
  return result;
}

/**
 * Returns float64 row-major data as the same kind of matrix as `like`: rows for rows,
 * or a FlatMatrix with the same typed array type for a FlatMatrix.
 */
export function matrixLike(
  like: number[][] | FlatMatrix,
  data: Float64Array,
  rows: number,
  columns: number,
): number[][] | FlatMatrix {
  if (Array.isArray(like)) return toRows(data, rows, columns);
  const typed = like.data instanceof Float32Array ? Float32Array.from(data) : data;
  return { data: typed, shape: [rows, columns] };
}
