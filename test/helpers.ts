import * as assert from "node:assert/strict";

// float32 carries about 7 significant digits; sums over hundreds of terms lose about two more
export const FLOAT32_TOLERANCE = 1e-5;
export const FLOAT64_TOLERANCE = 1e-12;

/** Asserts that two numbers or arrays agree within `tolerance`, relative to max(1, |expected|). */
export function assertClose(
  actual: number | ArrayLike<number>,
  expected: number | ArrayLike<number>,
  tolerance = FLOAT32_TOLERANCE,
  what = "value",
): void {
  const a = typeof actual === "number" ? [actual] : Array.from(actual);
  const e = typeof expected === "number" ? [expected] : Array.from(expected);
  assert.equal(a.length, e.length, `${what}: length ${a.length}, expected ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const scale = Math.max(1, Math.abs(e[i]));
    assert.ok(
      Math.abs(a[i] - e[i]) <= tolerance * scale,
      `${what}[${i}] = ${a[i]}, expected ${e[i]} within ${tolerance}`,
    );
  }
}

/** The precision a value was computed in, which sets the tolerance of assertWithinPrecision. */
export type Precision = "float32" | "float64";

/**
 * Relative tolerance of a result by the precision it was computed in: about 80 units in
 * the last place of float32 (TensorFlow.js tensors) and about 4500 of float64 (ml-matrix
 * and plain JavaScript numbers).
 */
const PRECISION_TOLERANCE: Record<Precision, number> = {
  float32: FLOAT32_TOLERANCE,
  float64: FLOAT64_TOLERANCE,
};

type Numbers = number | ArrayLike<number> | readonly Numbers[];

function flatten(value: Numbers): number[] {
  if (typeof value === "number") return [value];
  return Array.from(value as ArrayLike<Numbers>).flatMap((entry) => flatten(entry));
}

/**
 * Asserts that every entry of `actual`, nested arrays flattened, is within
 * PRECISION_TOLERANCE[precision] * max(|expected|, scale) of `expected`. The default
 * scale 1 bounds the absolute error of values below 1, and scale 0 makes the check
 * purely relative.
 */
export function assertWithinPrecision(
  actual: Numbers,
  expected: Numbers,
  precision: Precision,
  scale = 1,
): void {
  const got = flatten(actual);
  const want = flatten(expected);
  assert.equal(
    got.length,
    want.length,
    `expected ${want.length} values, got ${got.length}`,
  );
  want.forEach((value, i) => {
    const allowed = PRECISION_TOLERANCE[precision] * Math.max(Math.abs(value), scale);
    const error = Math.abs(got[i] - value);
    assert.ok(
      error <= allowed,
      `entry ${i}: got ${got[i]}, expected ${value} (error ${error} > ${allowed})`,
    );
  });
}
