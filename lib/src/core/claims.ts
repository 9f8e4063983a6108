import { AekitError } from "./errors";

/**
 * Checks that a tensor or array has the expected shape, where null matches any size.
 * Notebooks call it wherever the prose states a shape.
 */
export function checkShape(
  value: { shape: readonly number[] } | ArrayLike<unknown>,
  expected: readonly (number | null)[],
  name = "value",
): void {
  const shape = "shape" in value ? [...value.shape] : [value.length];
  const matches =
    shape.length === expected.length &&
    expected.every((size, i) => size === null || size === shape[i]);
  if (!matches) {
    const show = (s: readonly (number | null)[]) =>
      `[${s.map((d) => d ?? "any").join(", ")}]`;
    throw new AekitError(
      `checkShape: ${name} must have shape ${show(expected)}, got ${show(shape)}`,
    );
  }
}

/** The comparisons a claim can make between a measured value and its bound. */
export type Comparison = "<" | "<=" | ">" | ">=";

/**
 * Asserts a claim of the lecture on a measured number, for example
 * `assertClaim("test MSE", mse, "<", 0.02)`. Prints the measurement when the claim
 * holds, and throws an AekitError that shows both numbers when it does not, so an
 * executed notebook that stops teaching the truth fails.
 */
export function assertClaim(
  description: string,
  measured: number,
  comparison: Comparison,
  bound: number,
): void {
  const holds =
    comparison === "<"
      ? measured < bound
      : comparison === "<="
        ? measured <= bound
        : comparison === ">"
          ? measured > bound
          : measured >= bound;
  const statement = `${description}: measured ${formatNumber(measured)} ${comparison} ${formatNumber(bound)}`;
  if (!holds || !Number.isFinite(measured)) {
    throw new AekitError(`claim failed: ${statement} does not hold`);
  }
  console.log(`claim holds: ${statement}`);
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5))
    return value.toExponential(3);
  return Number(value.toPrecision(4)).toString();
}
