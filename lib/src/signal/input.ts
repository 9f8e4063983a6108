import { AekitError } from "../core/errors";
import { checkOneOf, invalid } from "../core/validate";
import { workArray, type WorkSlot } from "./scratch";

/** A JavaScript typed array of numbers (not BigInt64Array or BigUint64Array). */
export type TypedNumberArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array
  | Uint8ClampedArray;

/** A 1-D signal: a plain array or a typed array of finite numbers. */
export type Signal1D = readonly number[] | TypedNumberArray;

/** A 2-D image: an array of rows of equal length, each row a `Signal1D`. */
export type Signal2D = readonly Signal1D[];

/**
 * The type a 1-D function returns for an input of type `T`: an Array for an Array, a
 * Float32Array for a Float32Array, and a Float64Array for any other typed array
 * (an integer array would truncate the result).
 */
export type Signal1DOutput<T extends Signal1D> = T extends Float32Array
  ? Float32Array
  : T extends readonly number[]
    ? number[]
    : Float64Array;

/** The type a 2-D function returns for an image of type `T`, row by row as above. */
export type Signal2DOutput<T extends Signal2D> = T extends readonly (readonly number[])[]
  ? number[][]
  : T extends readonly Float32Array[]
    ? Float32Array[]
    : Float64Array[];

/** Output modes of the convolution and correlation functions, as in scipy.signal. */
export type ConvolveMode = "full" | "same" | "valid";
export const CONVOLVE_MODES: readonly ConvolveMode[] = ["full", "same", "valid"];

/** The ways to compute a convolution: the direct sum, the FFT, or the faster estimate. */
export type ConvolveMethod = "auto" | "direct" | "fft";
export const CONVOLVE_METHODS: readonly ConvolveMethod[] = ["auto", "direct", "fft"];

/** Options of the convolution and correlation functions. */
export interface ConvolveOptions {
  /**
   * 'direct' evaluates the defining sum, 'fft' multiplies spectra (fft.js, power-of-two
   * sizes, overlap-save blocks), and 'auto' (the default) picks the one with the smaller
   * estimated cost. The two agree to rounding error: the tests require 1e-12 of the
   * largest output.
   */
  readonly method?: ConvolveMethod;
}

/** A row-major matrix of float64 values. */
export interface Grid {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

function isNumberArray(value: unknown): value is Signal1D {
  return (
    Array.isArray(value) ||
    (ArrayBuffer.isView(value) && !(value instanceof DataView) && !isBigIntArray(value))
  );
}

function isBigIntArray(value: ArrayBufferView): boolean {
  return value instanceof BigInt64Array || value instanceof BigUint64Array;
}

/** Copies `values` into `target` at `offset`, checking that each is a finite number. */
function copyFinite(
  fn: string,
  argument: string,
  values: Signal1D,
  target: Float64Array,
  offset: number,
): void {
  // A typed array contains only numbers, so a block copy and a finiteness check on the
  // copy replace the per-value type checks of the loop below.
  if (!Array.isArray(values)) {
    target.set(values as TypedNumberArray, offset);
    checkAllFinite(fn, argument, target.subarray(offset, offset + values.length));
    return;
  }
  for (let i = 0; i < values.length; i++) {
    const value: unknown = values[i];
    if (typeof value !== "number" || !Number.isFinite(value)) {
      invalid(fn, `${argument}[${i}]`, "be a finite number", value);
    }
    target[offset + i] = value;
  }
}

/** Checks that each value is finite, naming the first that is not as `argument[i]`. */
function checkAllFinite(fn: string, argument: string, values: Float64Array): void {
  for (let i = 0; i < values.length; i++) {
    // v - v is 0 for a finite v and NaN for NaN and +-Infinity
    const v = values[i];
    if (v - v !== 0) invalid(fn, `${argument}[${i}]`, "be a finite number", v);
  }
}

/**
 * Throws an AekitError in the kit's message format for a value that is already
 * described in words, such as a size "2 x 6", which `invalid` would print as a string.
 */
export function invalidDescribed(
  fn: string,
  argument: string,
  rule: string,
  got: string,
): never {
  throw new AekitError(`${fn}: ${argument} must ${rule}, got ${got}`);
}

/** Validates a 1-D signal (non-empty, finite numbers) and copies it to a Float64Array. */
export function readSignal(fn: string, argument: string, value: unknown): Float64Array {
  if (!isNumberArray(value)) {
    invalid(fn, argument, "be an array or typed array of numbers", value);
  }
  if (value.length === 0) {
    invalid(fn, argument, "be a non-empty array", value);
  }
  const data = new Float64Array(value.length);
  copyFinite(fn, argument, value, data, 0);
  return data;
}

/**
 * Validates a 1-D signal like `readSignal`, but returns a Float64Array input itself
 * instead of a copy, which saves a pass over memory for long signals. The caller must not
 * write to the result.
 */
export function readSignalView(
  fn: string,
  argument: string,
  value: unknown,
): Float64Array {
  if (!(value instanceof Float64Array)) return readSignal(fn, argument, value);
  if (value.length === 0) {
    invalid(fn, argument, "be a non-empty array", value);
  }
  checkAllFinite(fn, argument, value);
  return value;
}

/**
 * Validates a 2-D image (non-empty, rectangular, finite numbers) and copies it, into the
 * kept work array of `slot` when one is given (see `workArray` for its rules).
 */
export function readImage(
  fn: string,
  argument: string,
  value: unknown,
  slot?: WorkSlot,
): Grid {
  if (!Array.isArray(value)) {
    invalid(
      fn,
      argument,
      "be an array of rows (arrays or typed arrays of numbers)",
      value,
    );
  }
  if (value.length === 0) {
    invalid(fn, argument, "be a non-empty array of rows", value);
  }
  const rows = value.length;
  let cols = 0;
  let data: Float64Array = new Float64Array(0);
  for (let r = 0; r < rows; r++) {
    const row: unknown = value[r];
    const name = `${argument}[${r}]`;
    if (!isNumberArray(row)) {
      invalid(fn, name, "be an array or typed array of numbers", row);
    }
    if (r === 0) {
      if (row.length === 0) invalid(fn, name, "be a non-empty array", row);
      cols = row.length;
      data =
        slot === undefined ? new Float64Array(rows * cols) : workArray(slot, rows * cols);
    } else if (row.length !== cols) {
      invalid(fn, name, `have the same length as ${argument}[0] (${cols})`, row);
    }
    copyFinite(fn, name, row, data, r * cols);
  }
  return { rows, cols, data };
}

/** Checks a mode argument against 'full', 'same' and 'valid'. */
export function readMode(fn: string, mode: unknown): ConvolveMode {
  return checkOneOf(fn, "mode", mode, CONVOLVE_MODES);
}

/** Checks an options argument of the convolution functions and returns its method. */
export function readMethod(fn: string, options: unknown): ConvolveMethod {
  if (options === undefined) return "auto";
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    invalid(fn, "options", "be an object such as { method: 'fft' }", options);
  }
  const method: unknown = (options as { method?: unknown }).method;
  if (method === undefined) return "auto";
  return checkOneOf(fn, "options.method", method, CONVOLVE_METHODS);
}

/** Converts a float64 result to the output type that matches `like`. */
export function toSignalOutput<T extends Signal1D>(
  like: T,
  data: Float64Array,
): Signal1DOutput<T> {
  if (Array.isArray(like)) return Array.from(data) as Signal1DOutput<T>;
  if (like instanceof Float32Array) return Float32Array.from(data) as Signal1DOutput<T>;
  return data as Signal1DOutput<T>;
}

/**
 * Splits a float64 result grid into rows of the output type that matches `like`. Each row
 * is a new array, so `grid` may be a work array.
 */
export function toImageOutput<T extends Signal2D>(
  like: T,
  grid: Grid,
): Signal2DOutput<T> {
  const kind = like.every((row) => Array.isArray(row))
    ? "array"
    : like.every((row) => row instanceof Float32Array)
      ? "float32"
      : "float64";
  const out: (number[] | Float32Array | Float64Array)[] = [];
  for (let r = 0; r < grid.rows; r++) {
    const row = grid.data.subarray(r * grid.cols, (r + 1) * grid.cols);
    if (kind === "array") out.push(Array.from(row));
    else if (kind === "float32") out.push(Float32Array.from(row));
    else out.push(row.slice());
  }
  return out as Signal2DOutput<T>;
}
