import { checkMetricOptions, recordMetric } from "./course";
import { AekitError } from "./errors";
import { checkOneOf, invalid } from "./validate";

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

/** Options of assertClaim: the unit of the measured value and the band it is expected in. */
export interface ClaimOptions {
  /** The unit of the measured value, such as "dB", for the metric tables. */
  unit?: string;
  /**
   * The range [low, high] that the kit's runs measured. A value outside it still passes
   * the claim, but `npm run notebooks` reports it as drift.
   */
  band?: [number, number];
}

/**
 * Asserts a claim of the lecture on a measured number, for example
 * `assertClaim("test MSE", mse, "<", 0.02)`. Records the measurement as a metric (see
 * recordMetric), prints it when the claim holds, and throws an AekitError that shows both
 * numbers when it does not, so an executed notebook that stops teaching the truth fails.
 */
export function assertClaim(
  description: string,
  measured: number,
  comparison: Comparison,
  bound: number,
  options: ClaimOptions = {},
): void {
  const fn = "assertClaim";
  if (typeof description !== "string" || description === "") {
    invalid(fn, "description", "be a non-empty string", description);
  }
  checkOneOf(fn, "comparison", comparison, COMPARISONS);
  if (typeof bound !== "number" || Number.isNaN(bound)) {
    invalid(fn, "bound", "be a number", bound);
  }
  if (typeof measured !== "number") {
    invalid(fn, `measured value of '${description}'`, "be a number", measured);
  }
  checkMetricOptions(fn, options);
  const holds =
    Number.isFinite(measured) &&
    (comparison === "<"
      ? measured < bound
      : comparison === "<="
        ? measured <= bound
        : comparison === ">"
          ? measured > bound
          : measured >= bound);
  const statement = `${description}: measured ${formatNumber(measured)} ${comparison} ${formatNumber(bound)}`;
  if (Number.isFinite(measured)) {
    recordMetric(description, measured, {
      ...options,
      claim: { comparison, bound, holds },
      quiet: true,
    });
  }
  if (!holds) {
    throw new AekitError(`claim failed: ${statement} does not hold`);
  }
  const expected = options.band
    ? ` (the kit's runs: ${formatNumber(options.band[0])} to ${formatNumber(options.band[1])})`
    : "";
  console.log(`claim holds: ${statement}${expected}`);
}

const COMPARISONS: readonly Comparison[] = ["<", "<=", ">", ">="];

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5))
    return value.toExponential(3);
  return Number(value.toPrecision(4)).toString();
}
