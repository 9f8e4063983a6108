import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { courseMode, recordMetric, METRICS_ENV, MODE_ENV } from "../lib/src/core/course";

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
      /recordMetric: band must be \[low, high\] with low <= high, got \[2,1\]/,
    );
  });
});
