import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { assertClaim } from "../lib/src/core/claims";
import { courseMode, recordMetric, METRICS_ENV, MODE_ENV } from "../lib/src/core/course";

function freshMetricsFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "aekit-metrics-")), "m.jsonl");
}

function readRecords(file: string): unknown[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
}

describe("courseMode and recordMetric", () => {
  const saved = { mode: process.env[MODE_ENV], metrics: process.env[METRICS_ENV] };
  afterEach(() => {
    for (const [name, value] of [
      [MODE_ENV, saved.mode],
      [METRICS_ENV, saved.metrics],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it("defaults to fast and reads full", () => {
    delete process.env[MODE_ENV];
    assert.equal(courseMode(), "fast");
    process.env[MODE_ENV] = "full";
    assert.equal(courseMode(), "full");
  });

  it("throws when the mode is unknown", () => {
    process.env[MODE_ENV] = "quick";
    assert.throws(() => courseMode(), /AEKIT_MODE must be 'fast' or 'full', got "quick"/);
  });

  it("appends one JSON line per metric with the mode", () => {
    const file = path.join(
      fs.mkdtempSync(path.join(os.tmpdir(), "aekit-metrics-")),
      "m.jsonl",
    );
    process.env[METRICS_ENV] = file;
    process.env[MODE_ENV] = "fast";
    recordMetric("test MSE", 0.0138, { unit: "per pixel", band: [0.01, 0.02] });
    recordMetric("seconds", 31);
    const lines = fs
      .readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(lines, [
      {
        name: "test MSE",
        value: 0.0138,
        unit: "per pixel",
        mode: "fast",
        band: [0.01, 0.02],
      },
      { name: "seconds", value: 31, unit: "", mode: "fast" },
    ]);
  });

  it("throws when the value is not finite", () => {
    assert.throws(
      () => recordMetric("loss", NaN),
      /recordMetric: value must be a finite number, got NaN/,
    );
  });

  it("throws when the band is reversed", () => {
    assert.throws(
      () => recordMetric("loss", 1, { band: [2, 1] }),
      /recordMetric: band must be \[low, high\] with low <= high, got \[2, 1\]/,
    );
  });

  it("records a claim that holds with its bound and band", () => {
    const file = freshMetricsFile();
    process.env[METRICS_ENV] = file;
    process.env[MODE_ENV] = "full";
    assertClaim("PSNR gain", 6.04, ">", 3, { unit: "dB", band: [5, 7] });
    assert.deepEqual(readRecords(file), [
      {
        name: "PSNR gain",
        value: 6.04,
        unit: "dB",
        mode: "full",
        band: [5, 7],
        claim: { comparison: ">", bound: 3, holds: true },
      },
    ]);
  });

  it("records a failed claim before it throws", () => {
    const file = freshMetricsFile();
    process.env[METRICS_ENV] = file;
    process.env[MODE_ENV] = "fast";
    assert.throws(
      () => assertClaim("test MSE", 0.03, "<", 0.02),
      /claim failed: test MSE: measured 0.03 < 0.02 does not hold/,
    );
    assert.deepEqual(readRecords(file), [
      {
        name: "test MSE",
        value: 0.03,
        unit: "",
        mode: "fast",
        claim: { comparison: "<", bound: 0.02, holds: false },
      },
    ]);
  });

  it("fails a claim on NaN without recording it", () => {
    const file = freshMetricsFile();
    process.env[METRICS_ENV] = file;
    assert.throws(
      () => assertClaim("loss", NaN, "<", 1),
      /claim failed: loss: measured NaN < 1 does not hold/,
    );
    assert.deepEqual(readRecords(file), []);
  });

  it("rejects an unknown comparison and a bound that is not a number", () => {
    assert.throws(
      () => assertClaim("loss", 1, "=<" as "<=", 2),
      /assertClaim: comparison must be one of '<', '<=', '>', '>=', got "=<"/,
    );
    assert.throws(
      () => assertClaim("loss", 1, "<", "2" as unknown as number),
      /assertClaim: bound must be a number, got "2"/,
    );
  });

  it("recordMetric rejects band strings", () => {
    assert.throws(
      () => recordMetric("loss", 1, { band: ["0", "5"] as unknown as [number, number] }),
      /recordMetric: band must be \[low, high\] of two finite numbers, got \["0", "5"\]/,
    );
  });

  it("recordMetric rejects a numeric unit", () => {
    assert.throws(
      () => recordMetric("loss", 1, { unit: 5 as unknown as string }),
      /recordMetric: unit must be a string such as 'dB', got 5/,
    );
  });

  it("recordMetric rejects null options", () => {
    assert.throws(
      () => recordMetric("loss", 1, null as unknown as object),
      /recordMetric: options must be an object such as \{ unit: 'dB', band: \[5, 7\] \}, got null/,
    );
  });

  it("assertClaim rejects an empty description", () => {
    assert.throws(
      () => assertClaim("", 1, "<", 2),
      /^AekitError: assertClaim: description must be a non-empty string, got ""$/,
    );
  });

  it("assertClaim names itself for a reversed band", () => {
    assert.throws(
      () => assertClaim("loss", 1, "<", 2, { band: [3, 1] }),
      /^AekitError: assertClaim: band must be \[low, high\] with low <= high, got \[3, 1\]$/,
    );
  });

  it("assertClaim rejects null options", () => {
    assert.throws(
      () => assertClaim("loss", 1, "<", 2, null as unknown as object),
      /^AekitError: assertClaim: options must be an object such as \{ unit: 'dB', band: \[5, 7\] \}, got null$/,
    );
  });
});
