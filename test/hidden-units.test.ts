import * as assert from "node:assert/strict";
import { featureGrid, histogram } from "../lib/src/figures/hidden-units";

describe("histogram", () => {
  it("overlays series on shared bins", () => {
    const figure = histogram(
      [
        { name: "no penalty", values: [0, 0.5, 1] },
        { name: "KL", values: new Float32Array([0.25, 0.25]) },
      ],
      { bins: 4, title: "mean activations", xTitle: "rhoHat" },
    );
    assert.equal(figure.data.length, 2);
    for (const trace of figure.data) {
      assert.equal(trace.type, "histogram");
      assert.deepEqual(trace.xbins, { start: 0, end: 1, size: 0.25 });
      assert.equal(trace.opacity, 0.6);
    }
    assert.deepEqual(figure.data[0].x, [0, 0.5, 1]);
    assert.deepEqual(figure.data[1].x, [0.25, 0.25]);
    assert.equal(figure.data[1].name, "KL");
    assert.equal(figure.layout.barmode, "overlay");
    assert.deepEqual(figure.layout.title, { text: "mean activations" });
    assert.deepEqual(figure.layout.xaxis, { title: { text: "rhoHat" }, range: [0, 1] });
    assert.deepEqual(figure.layout.yaxis, { title: { text: "count" } });
  });

  it("uses the given range and draws markers", () => {
    const figure = histogram([{ name: "a", values: [0.1, 0.2] }], {
      range: [0, 0.5],
      bins: 10,
      markers: [{ x: 0.05, label: "rho" }],
    });
    assert.deepEqual(figure.data[0].xbins, { start: 0, end: 0.5, size: 0.05 });
    assert.equal(figure.data[0].opacity, 1);
    const [shape] = figure.layout.shapes as Record<string, unknown>[];
    assert.equal(shape.type, "line");
    assert.equal(shape.x0, 0.05);
    assert.equal(shape.x1, 0.05);
    assert.equal(shape.yref, "paper");
    const [annotation] = figure.layout.annotations as Record<string, unknown>[];
    assert.equal(annotation.text, "rho");
    assert.equal(annotation.x, 0.05);
  });

  it("widens the range when all values are equal", () => {
    const figure = histogram([{ name: "a", values: [2, 2] }], { bins: 1 });
    assert.deepEqual(figure.data[0].xbins, { start: 1.5, end: 2.5, size: 1 });
  });

  it("throws when series is empty", () => {
    assert.throws(
      () => histogram([]),
      /histogram: series must be a non-empty array of \{ name, values \}, got an array of length 0/,
    );
  });

  it("throws when a series has no values", () => {
    assert.throws(
      () => histogram([{ name: "a", values: [] }]),
      /histogram: series\[0\]\.values must be a non-empty array of numbers, got an array of length 0/,
    );
  });

  it("throws when a value is not finite", () => {
    assert.throws(
      () => histogram([{ name: "a", values: [0.1, NaN] }]),
      /histogram: series\[0\]\.values\[1\] must be a finite number, got NaN/,
    );
  });

  it("throws when bins is below 1", () => {
    assert.throws(
      () => histogram([{ name: "a", values: [1] }], { bins: 0 }),
      /histogram: bins must be an integer >= 1, got 0/,
    );
  });

  it("throws when range is reversed", () => {
    assert.throws(
      () => histogram([{ name: "a", values: [1] }], { range: [1, 0] }),
      /histogram: range must be \[low, high\] with finite low < high, got an array of length 2/,
    );
  });

  it("throws when a marker is not finite", () => {
    assert.throws(
      () =>
        histogram([{ name: "a", values: [1] }], { markers: [{ x: NaN, label: "rho" }] }),
      /histogram: markers\[0\]\.x must be a finite number, got NaN/,
    );
  });
});

describe("featureGrid", () => {
  it("scales each feature by its largest absolute weight", () => {
    const figure = featureGrid(
      [
        [2, -1, 0, 1],
        [0, 0, 0, 0],
        [0.5, 0.25, -0.5, 0],
      ],
      { columns: 2, imageHeight: 2, imageWidth: 2, title: "features" },
    );
    const z = figure.data[0].z as (number | null)[][];
    // row 1: features 1 and 2 side by side with a 2-pixel gap
    assert.deepEqual(z[0], [1, 0.25, null, null, 0.5, 0.5]);
    assert.deepEqual(z[1], [0.5, 0.75, null, null, 0.5, 0.5]);
    // row 2 starts after the 2 image rows and a 2-row gap
    assert.deepEqual(z[4], [1, 0.75, null, null, null, null]);
    assert.deepEqual(z[5], [0, 0.5, null, null, null, null]);
    assert.equal(figure.data[0].zmin, 0);
    assert.equal(figure.data[0].zmax, 1);
    assert.deepEqual((figure.layout.yaxis as { ticktext: string[] }).ticktext, [
      "units 1-2",
      "units 3-3",
    ]);
    assert.deepEqual(figure.layout.title, { text: "features" });
  });

  it("lays out 28x28 features 10 per row by default", () => {
    const features = Array.from({ length: 25 }, () => new Float32Array(784).fill(1));
    const z = featureGrid(features).data[0].z as (number | null)[][];
    assert.equal(z.length, 3 * 28 + 2 * 2);
    assert.equal(z[0].length, 10 * 28 + 9 * 2);
  });

  it("throws when features is empty", () => {
    assert.throws(
      () => featureGrid([]),
      /featureGrid: features must be a non-empty array of weight vectors, got an array of length 0/,
    );
  });

  it("throws when a weight is not finite", () => {
    assert.throws(
      () => featureGrid([[0, Infinity, 0, 0]], { imageHeight: 2, imageWidth: 2 }),
      /featureGrid: features\[0\]\[1\] must be a finite number, got Infinity/,
    );
  });

  it("throws when columns is below 1", () => {
    assert.throws(
      () => featureGrid([[0, 0, 0, 0]], { columns: 0 }),
      /featureGrid: columns must be an integer >= 1, got 0/,
    );
  });

  it("throws when a feature does not fit the image size", () => {
    assert.throws(
      () => featureGrid([[0, 0, 0]]),
      /imageGrid: rows\[0\]\.images\[0\] must have 28x28 = 784 pixels, got an array of length 3/,
    );
  });
});
