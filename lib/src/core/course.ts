import * as fs from "node:fs";
import { AekitError, describeValue } from "./errors";
import { checkFinite, checkObject, invalid } from "./validate";

/** How much work a notebook does: 'fast' for CI and quick checks, 'full' for the lecture's numbers. */
export type CourseMode = "fast" | "full";

/** The environment variable that selects the mode; `npm run notebooks -- --mode full` sets it. */
export const MODE_ENV = "AEKIT_MODE";

/** The environment variable naming the file that recordMetric appends to; the runner sets it. */
export const METRICS_ENV = "AEKIT_METRICS_FILE";

/** Returns the course mode from AEKIT_MODE, 'fast' when unset. */
export function courseMode(): CourseMode {
  const value = process.env[MODE_ENV];
  if (value === undefined || value === "") return "fast";
  if (value !== "fast" && value !== "full") {
    throw new AekitError(
      `${MODE_ENV} must be 'fast' or 'full', got ${JSON.stringify(value)}; unset it for 'fast'`,
    );
  }
  return value;
}

/** A measured result of a notebook, as the runner collects it. */
export interface MetricRecord {
  name: string;
  value: number;
  unit: string;
  mode: CourseMode;
  /** The range the value is expected in, [low, high]; the runner reports drift outside it. */
  band?: [number, number];
  /** Set when the metric comes from assertClaim: the claim and whether it held. */
  claim?: { comparison: "<" | "<=" | ">" | ">="; bound: number; holds: boolean };
}

/** The options of a metric that recordMetric and assertClaim both take. */
export interface MetricOptions {
  /** The unit of the value, such as "dB". */
  unit?: string;
  /** The range [low, high] the value is expected in. */
  band?: [number, number];
}

function formatBand(band: unknown): string {
  return Array.isArray(band)
    ? `[${band.map(describeValue).join(", ")}]`
    : describeValue(band);
}

/**
 * Checks the options of a metric: an object whose unit, when given, is a string and
 * whose band, when given, is [low, high] of finite numbers with low <= high.
 */
export function checkMetricOptions(
  fn: string,
  options: unknown,
): asserts options is MetricOptions {
  checkObject(fn, "options", options, "{ unit: 'dB', band: [5, 7] }");
  const { unit, band } = options as { unit?: unknown; band?: unknown };
  if (unit !== undefined && typeof unit !== "string") {
    invalid(fn, "unit", "be a string such as 'dB'", unit);
  }
  if (band === undefined) return;
  const finitePair =
    Array.isArray(band) &&
    band.length === 2 &&
    band.every((bound) => typeof bound === "number" && Number.isFinite(bound));
  if (!finitePair) {
    throw new AekitError(
      `${fn}: band must be [low, high] of two finite numbers, got ${formatBand(band)}`,
    );
  }
  if (band[0] > band[1]) {
    throw new AekitError(
      `${fn}: band must be [low, high] with low <= high, got ${formatBand(band)}`,
    );
  }
}

/**
 * Records a key result of a notebook (name, value, unit and the current mode), printing it
 * and appending it as one JSON line to the file named by AEKIT_METRICS_FILE when set.
 */
export function recordMetric(
  name: string,
  value: number,
  options: MetricOptions & {
    /** Set by assertClaim, which records its claim with the value. */
    claim?: MetricRecord["claim"];
    /** Records without printing; assertClaim prints its own line. */
    quiet?: boolean;
  } = {},
): MetricRecord {
  if (typeof name !== "string" || name === "") {
    throw new AekitError(
      `recordMetric: name must be a non-empty string, got ${JSON.stringify(name)}`,
    );
  }
  checkFinite("recordMetric", "value", value);
  checkMetricOptions("recordMetric", options);
  const band = options.band;
  const record: MetricRecord = {
    name,
    value,
    unit: options.unit ?? "",
    mode: courseMode(),
    band,
    claim: options.claim,
  };
  const file = process.env[METRICS_ENV];
  if (file) fs.appendFileSync(file, JSON.stringify(record) + "\n");
  if (options.quiet) return record;
  const unit = record.unit ? ` ${record.unit}` : "";
  const expected = band ? ` (expected ${band[0]} to ${band[1]})` : "";
  console.log(`metric: ${name} = ${Number(value.toPrecision(4))}${unit}${expected}`);
  return record;
}
