import * as assert from "node:assert/strict";
import {
  correlationHeatmap,
  imageWithBoxes,
  peakLocation,
  stemPlot,
} from "../lib/src/figures/signal";
import { FLOAT64_TOLERANCE, assertClose } from "./helpers";

type Axis = {
  title?: { text: string };
  domain?: [number, number];
  anchor?: string;
  range?: [number, number];
  visible?: boolean;
  scaleanchor?: string;
};

const axis = (layout: Record<string, unknown>, name: string) => layout[name] as Axis;

describe("stemPlot", () => {
  it("draws stems from 0 and markers at each sample", () => {
    const figure = stemPlot([{ name: "h", y: [1, -0.5, 0.25] }]);
    assert.equal(figure.data.length, 2);
    const [stems, markers] = figure.data;
    assert.equal(stems.type, "scatter");
    assert.equal(stems.mode, "lines");
    // one segment (n, 0) -> (n, h[n]) per sample, separated by nulls
    assert.deepEqual(stems.x, [0, 0, null, 1, 1, null, 2, 2, null]);
    assert.deepEqual(stems.y, [0, 1, null, 0, -0.5, null, 0, 0.25, null]);
    assert.equal(markers.mode, "markers");
    assert.deepEqual(markers.x, [0, 1, 2]);
    assert.deepEqual(markers.y, [1, -0.5, 0.25]);
  });

  it("gives stems and markers of a series one color and legend entry", () => {
    const figure = stemPlot([
      { name: "x", y: [1, 2] },
      { name: "y", y: [3, 4] },
    ]);
    assert.equal(figure.data.length, 4);
    const color = (i: number) =>
      (figure.data[i].line ?? figure.data[i].marker) as { color: string };
    assert.equal(color(0).color, color(1).color);
    assert.equal(color(2).color, color(3).color);
    assert.notEqual(color(0).color, color(2).color);
    assert.deepEqual(
      figure.data.map((trace) => trace.legendgroup),
      ["x", "x", "y", "y"],
    );
    assert.equal(figure.data[0].showlegend, false);
    assert.equal(figure.data[1].showlegend, undefined);
    assert.equal(figure.layout.showlegend, true);
  });

  it("uses the given sample indices", () => {
    const figure = stemPlot([{ name: "z", y: [5, 6, 7], x: [-1, 0, 1] }]);
    assert.deepEqual(figure.data[1].x, [-1, 0, 1]);
    assert.deepEqual(figure.data[0].x, [-1, -1, null, 0, 0, null, 1, 1, null]);
  });

  it("sets titles and the default size", () => {
    const figure = stemPlot([{ name: "x", y: [1] }], { title: "signal", yTitle: "x[n]" });
    assert.equal((figure.layout.title as { text: string }).text, "signal");
    assert.equal(axis(figure.layout, "xaxis").title?.text, "n");
    assert.equal(axis(figure.layout, "yaxis").title?.text, "x[n]");
    assert.equal(figure.layout.width, 640);
    assert.equal(figure.layout.height, 380);
    // a single series needs no legend
    assert.equal(figure.layout.showlegend, false);
  });

  it("stacks series in panels from the top", () => {
    const figure = stemPlot(
      [
        { name: "input", y: [1, 2] },
        { name: "output", y: [3, 4] },
        { name: "error", y: [0, 1] },
      ],
      { stacked: true, xTitle: "sample" },
    );

    assert.deepEqual(
      figure.data.map((trace) => trace.yaxis),
      ["y", "y", "y2", "y2", "y3", "y3"],
    );
    const panels = ["yaxis", "yaxis2", "yaxis3"].map((name) => axis(figure.layout, name));
    assert.deepEqual(
      panels.map((panel) => panel.title?.text),
      ["input", "output", "error"],
    );

    // three panels of p = (1 - 2 * 0.04) / 3 each, with gaps of 0.04, from the top
    const p = (1 - 2 * 0.04) / 3;
    const domains = panels.map((panel) => panel.domain as [number, number]);
    const expected = [
      [1 - p, 1],
      [1 - 2 * p - 0.04, 1 - p - 0.04],
      [0, p],
    ];
    domains.forEach((domain, i) => {
      assertClose(domain, expected[i], FLOAT64_TOLERANCE, `panel ${i} domain`);
    });

    assert.equal(axis(figure.layout, "xaxis").anchor, "y3");
    assert.equal(axis(figure.layout, "xaxis").title?.text, "sample");
    assert.equal(figure.layout.showlegend, false);
    assert.equal(figure.layout.height, 70 + 3 * 160);
  });

  it("throws when there are no series", () => {
    assert.throws(() => stemPlot([]), /stemPlot: series must be a non-empty array/);
  });

  it("throws when samples are missing or not finite", () => {
    assert.throws(
      () => stemPlot([{ name: "x", y: [] }]),
      /stemPlot: series\[0\]\.y must be a non-empty array, got an array of length 0/,
    );
    assert.throws(
      () =>
        stemPlot([
          { name: "x", y: [1] },
          { name: "y", y: [1, NaN] },
        ]),
      /stemPlot: series\[1\]\.y\[1\] must be a finite number, got NaN/,
    );
  });

  it("throws when the indices do not match the samples", () => {
    assert.throws(
      () => stemPlot([{ name: "x", y: [1, 2, 3], x: [0, 1] }]),
      /stemPlot: series\[0\]\.x must have one index per sample \(3\), got an array of length 2/,
    );
  });
});

describe("peakLocation", () => {
  it("finds the largest entry", () => {
    const peak = peakLocation([
      [0, 1, 2],
      [3, 9, -1],
    ]);
    assert.deepEqual(peak, { row: 1, col: 1, value: 9 });
  });

  it("takes the first of equal maxima in row-major order", () => {
    const peak = peakLocation([
      [0, 5],
      [5, 5],
    ]);
    assert.deepEqual(peak, { row: 0, col: 1, value: 5 });
  });

  it("reads rows of typed arrays", () => {
    const peak = peakLocation([Float32Array.of(-3, -2), Float32Array.of(-4, -5)]);
    assert.deepEqual(peak, { row: 0, col: 1, value: -2 });
  });

  it("throws on a ragged map", () => {
    assert.throws(
      () => peakLocation([[1, 2], [3]]),
      /peakLocation: map\[1\] must have the same length as map\[0\] \(2\), got an array of length 1/,
    );
  });
});

describe("correlationHeatmap", () => {
  const map = [
    [0.1, 0.2, 0.3],
    [0.4, 0.987654321, 0.6],
  ];

  it("draws the map rounded to 4 significant digits", () => {
    const figure = correlationHeatmap(map);
    const heatmap = figure.data[0];
    assert.equal(heatmap.type, "heatmap");
    assert.deepEqual(heatmap.z, [
      [0.1, 0.2, 0.3],
      [0.4, 0.9877, 0.6],
    ]);
    assert.equal(heatmap.colorscale, "Viridis");
    assert.deepEqual(heatmap.colorbar, { title: { text: "score" } });
    assert.equal(heatmap.zmin, undefined);
  });

  it("marks the peak in red", () => {
    const figure = correlationHeatmap(map);
    assert.equal(figure.data.length, 2);
    const peak = figure.data[1];
    assert.equal(peak.name, "peak at (1, 1)");
    // plotly's x is the column and y the row
    assert.deepEqual(peak.x, [1]);
    assert.deepEqual(peak.y, [1]);
    const marker = peak.marker as { symbol: string; size: number; color: string };
    assert.equal(marker.symbol, "circle-open");
    assert.equal(marker.color, "#d62728");
    assert.equal(marker.size, 14);
  });

  it("adds marks larger than the peak's circle", () => {
    const figure = correlationHeatmap(map, {
      marks: [
        { row: 0, col: 2, name: "true place" },
        { row: 1, col: 0, name: "other", color: "white" },
      ],
    });
    assert.deepEqual(
      figure.data.map((trace) => trace.name),
      [undefined, "peak at (1, 1)", "true place", "other"],
    );
    assert.deepEqual(figure.data[2].x, [2]);
    assert.deepEqual(figure.data[2].y, [0]);
    const markers = figure.data.slice(2).map((t) => t.marker as Record<string, unknown>);
    assert.deepEqual(
      markers.map((m) => [m.size, m.color]),
      [
        [22, "black"],
        [22, "white"],
      ],
    );
  });

  it("leaves the peak unmarked on request", () => {
    const figure = correlationHeatmap(map, { markPeak: false });
    assert.equal(figure.data.length, 1);
  });

  it("applies the range, colorscale and color bar title", () => {
    const figure = correlationHeatmap(map, {
      range: [-1, 1],
      colorscale: "RdBu",
      colorbarTitle: "NCC",
      title: "NCC map",
    });
    const heatmap = figure.data[0];
    assert.equal(heatmap.zmin, -1);
    assert.equal(heatmap.zmax, 1);
    assert.equal(heatmap.colorscale, "RdBu");
    assert.deepEqual(heatmap.colorbar, { title: { text: "NCC" } });
    assert.equal((figure.layout.title as { text: string }).text, "NCC map");
  });

  it("sizes square cells with row 0 at the top", () => {
    const figure = correlationHeatmap(map, { cellSize: 10, title: "t" });
    const margin = figure.layout.margin as Record<string, number>;
    assert.deepEqual(margin, { l: 60, r: 140, t: 50, b: 90 });
    assert.equal(figure.layout.width, 3 * 10 + 60 + 140);
    assert.equal(figure.layout.height, 2 * 10 + 50 + 90);
    const x = axis(figure.layout, "xaxis");
    const y = axis(figure.layout, "yaxis");
    assert.equal(x.title?.text, "column");
    assert.equal(y.title?.text, "row");
    assert.deepEqual(x.range, [-0.5, 2.5]);
    // a decreasing range puts row 0 at the top
    assert.deepEqual(y.range, [1.5, -0.5]);
    assert.equal(y.scaleanchor, "x");
  });

  it("keeps an explicit width and height", () => {
    const figure = correlationHeatmap(map, { width: 500, height: 300 });
    assert.equal(figure.layout.width, 500);
    assert.equal(figure.layout.height, 300);
  });

  it("throws when a mark lies outside the map", () => {
    assert.throws(
      () => correlationHeatmap(map, { marks: [{ row: 2, col: 0, name: "off" }] }),
      /correlationHeatmap: marks\[0\]\.row must be an integer in \[0, 1\], got 2/,
    );
    assert.throws(
      () => correlationHeatmap(map, { marks: [{ row: 0, col: 1.5, name: "half" }] }),
      /correlationHeatmap: marks\[0\]\.col must be an integer, got 1\.5/,
    );
  });

  it("throws on an invalid range or cell size", () => {
    assert.throws(
      () => correlationHeatmap(map, { range: [1, -1] }),
      /correlationHeatmap: range must be \[low, high\] with finite low < high, got an array of length 2/,
    );
    assert.throws(
      () => correlationHeatmap(map, { cellSize: 0 }),
      /correlationHeatmap: cellSize must be > 0, got 0/,
    );
  });

  it("throws on an empty map", () => {
    assert.throws(
      () => correlationHeatmap([]),
      /correlationHeatmap: map must be a non-empty array of rows, got an array of length 0/,
    );
  });
});

describe("imageWithBoxes", () => {
  const image = Array.from({ length: 4 }, (_, r) =>
    Array.from({ length: 6 }, (_, c) => (r + c) / 8),
  );

  it("draws the image in gray from 0 to 1", () => {
    const figure = imageWithBoxes(image, []);
    assert.equal(figure.data.length, 1);
    const heatmap = figure.data[0];
    assert.equal(heatmap.type, "heatmap");
    assert.equal(heatmap.colorscale, "Greys");
    assert.equal(heatmap.zmin, 0);
    assert.equal(heatmap.zmax, 1);
    assert.equal(heatmap.showscale, false);
    assert.deepEqual((heatmap.z as number[][])[3], [0.375, 0.5, 0.625, 0.75, 0.875, 1]);
  });

  it("draws each box along the pixel borders", () => {
    const figure = imageWithBoxes(image, [
      { row: 1, col: 2, height: 2, width: 3, name: "match" },
    ]);
    const box = figure.data[1];
    assert.equal(box.type, "scatter");
    assert.equal(box.mode, "lines");
    assert.equal(box.name, "match");
    // pixels 2..4 span x from 1.5 to 4.5, rows 1..2 span y from 0.5 to 2.5
    assert.deepEqual(box.x, [1.5, 4.5, 4.5, 1.5, 1.5]);
    assert.deepEqual(box.y, [0.5, 0.5, 2.5, 2.5, 0.5]);
  });

  it("colors boxes in order unless given a color", () => {
    const figure = imageWithBoxes(image, [
      { row: 0, col: 0, height: 1, width: 1, name: "a" },
      { row: 0, col: 0, height: 1, width: 1, name: "b" },
      { row: 0, col: 0, height: 1, width: 1, name: "c", color: "red" },
    ]);
    const colors = figure.data
      .slice(1)
      .map((trace) => (trace.line as { color: string }).color);
    assert.deepEqual(colors, ["#ff7f0e", "#2ca02c", "red"]);
  });

  it("hides the axes and sizes the pixels", () => {
    const figure = imageWithBoxes(image, [], { cellSize: 5, range: [-1, 1] });
    assert.equal(figure.data[0].zmin, -1);
    assert.equal(figure.data[0].zmax, 1);
    assert.equal(figure.layout.width, 6 * 5 + 20 + 20);
    assert.equal(figure.layout.height, 4 * 5 + 20 + 50);
    assert.equal(axis(figure.layout, "xaxis").visible, false);
    assert.equal(axis(figure.layout, "yaxis").visible, false);
    assert.deepEqual(axis(figure.layout, "yaxis").range, [3.5, -0.5]);
  });

  it("throws when a box does not fit the image", () => {
    assert.throws(
      () =>
        imageWithBoxes(image, [{ row: 2, col: 0, height: 3, width: 1, name: "tall" }]),
      /imageWithBoxes: boxes\[0\]\.height must be an integer in \[1, 2\], got 3/,
    );
    assert.throws(
      () => imageWithBoxes(image, [{ row: 0, col: 6, height: 1, width: 1, name: "off" }]),
      /imageWithBoxes: boxes\[0\]\.col must be an integer in \[0, 5\], got 6/,
    );
    assert.throws(
      () =>
        imageWithBoxes(image, [{ row: 0, col: 0, height: 1, width: 0, name: "thin" }]),
      /imageWithBoxes: boxes\[0\]\.width must be an integer in \[1, 6\], got 0/,
    );
  });

  it("throws when boxes is not an array", () => {
    assert.throws(
      () => imageWithBoxes(image, undefined as unknown as []),
      /imageWithBoxes: boxes must be an array, got undefined/,
    );
  });

  it("throws on an invalid range or image", () => {
    assert.throws(
      () => imageWithBoxes(image, [], { range: [0, Infinity] }),
      /imageWithBoxes: range must be \[low, high\] with finite low < high/,
    );
    assert.throws(
      () =>
        imageWithBoxes(
          [
            [0, 1],
            [Infinity, 0],
          ],
          [],
        ),
      /imageWithBoxes: image\[1\]\[0\] must be a finite number, got Infinity/,
    );
  });
});
