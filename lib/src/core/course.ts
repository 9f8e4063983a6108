import * as fs from "node:fs";
import { AekitError } from "./errors";
import { checkFinite } from "./validate";

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

/**
 * Records a key result of a notebook (name, value, unit and the current mode), printing it
 * and appending it as one JSON line to the file named by AEKIT_METRICS_FILE when set.
 */
export function recordMetric(
  name: string,
  value: number,
  options: {
    unit?: string;
    band?: [number, number];
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
  const band = options.band;
  if (band !== undefined) {
    if (!Array.isArray(band) || band.length !== 2 || !(band[0] <= band[1])) {
      throw new AekitError(
        `recordMetric: band must be [low, high] with low <= high, got ${JSON.stringify(band)}`,
      );
    }
  }
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
