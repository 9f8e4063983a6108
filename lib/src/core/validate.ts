import * as tf from "@tensorflow/tfjs";
import { AekitError, describeValue } from "./errors";

/**
 * The maximum number of elements the kit puts in one plain JavaScript array. V8 (Node 20)
 * aborts the whole process, with no catchable error, when an array grows past about 2^27
 * elements, and growing an array by push overshoots its final length, so the limit is
 * half that.
 */
export const MAX_ARRAY_LENGTH = 2 ** 26;

/**
 * The maximum number of points the kit puts in one array of points (number[][]). Each
 * point is its own small array of about 90 bytes in V8 (measured on Node 20), so 2^22
 * points take about 400 MB of heap before a figure copies them.
 */
export const MAX_POINTS = 2 ** 22;

/** Throws an AekitError in the kit's message format: "<fn>: <argument> must <rule>, got <value>". */
export function invalid(
  fn: string,
  argument: string,
  rule: string,
  value: unknown,
): never {
  throw new AekitError(`${fn}: ${argument} must ${rule}, got ${describeValue(value)}`);
}

/** Checks that `value` is a finite number, and returns it. */
export function checkFinite(fn: string, argument: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    invalid(fn, argument, "be a finite number", value);
  }
  return value;
}

/** Checks that `value` is an integer in [min, max], and returns it. */
export function checkInteger(
  fn: string,
  argument: string,
  value: unknown,
  min = -Infinity,
  max = Infinity,
): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    invalid(fn, argument, "be an integer", value);
  }
  if (value < min || value > max) {
    const range =
      max === Infinity ? `be an integer >= ${min}` : `be an integer in [${min}, ${max}]`;
    invalid(fn, argument, range, value);
  }
  return value;
}

/** Checks that `value` is a finite number in the open interval (low, high). */
export function checkOpenInterval(
  fn: string,
  argument: string,
  value: unknown,
  low: number,
  high: number,
): number {
  checkFinite(fn, argument, value);
  if ((value as number) <= low || (value as number) >= high) {
    invalid(fn, argument, `be in the open interval (${low}, ${high})`, value);
  }
  return value as number;
}

/**
 * Checks that `value` is an options object (not null and not an array). `example` shows
 * the expected fields in the error, such as "{ inputDim: 784, codeSize: 32 }".
 */
export function checkObject(
  fn: string,
  argument: string,
  value: unknown,
  example: string,
): asserts value is object {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    invalid(fn, argument, `be an object such as ${example}`, value);
  }
}

/** Checks that `value` is one of `allowed`, listing the allowed values in the error. */
export function checkOneOf<T extends string>(
  fn: string,
  argument: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    const list = allowed.map((a) => `'${a}'`).join(", ");
    invalid(fn, argument, `be one of ${list}`, value);
  }
  return value as T;
}

/**
 * Returns the flat index and value of the first NaN or infinite value of `t`, or null
 * when every value is finite. It reduces on the backend first and reads the values back
 * only to find a bad one.
 */
export function firstNonFinite(t: tf.Tensor): { index: number; value: number } | null {
  const allFinite = tf.tidy(() => tf.isFinite(t).all().dataSync()[0]);
  if (allFinite) return null;
  const values = t.dataSync();
  const index = values.findIndex((v) => !Number.isFinite(v));
  return { index, value: Number(values[index]) };
}
