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
