import * as assert from "node:assert/strict";
import { imageGrid, lineChart, scatter2d } from "../lib/src/figures/basic";
import {
  figureBundle,
  plotlyLibraryBundle,
  progressFigure,
  resetPlotlyInclusion,
  tableText,
} from "../lib/src/display/show";
import type { EpochLogs } from "../lib/src/train/fit";
import { inTslab } from "../lib/src/display/tslab";

describe("imageGrid", () => {
  it("lays out rows of images with 2-pixel gaps", () => {
    const image = (v: number) => new Array(4).fill(v);
    const figure = imageGrid(
      [
        { label: "original", images: [image(0), image(1), image(0.5)] },
        { label: "rebuilt", images: [image(1), image(0)] },
      ],
      { imageHeight: 2, imageWidth: 2, title: "grid" },
    );
    const z = figure.data[0].z as (number | null)[][];
    // 2 rows of 2 pixels plus one 2-pixel gap; 3 columns of 2 pixels plus two gaps
    assert.equal(z.length, 2 * 2 + 2);
    assert.equal(z[0].length, 3 * 2 + 2 * 2);
    assert.deepEqual(z[0], [0, 0, null, null, 1, 1, null, null, 0.5, 0.5]);
    assert.deepEqual(z[4], [1, 1, null, null, 0, 0, null, null, null, null]);
    assert.equal(figure.data[0].type, "heatmap");
    assert.deepEqual((figure.layout.yaxis as { ticktext: string[] }).ticktext, [
      "original",
      "rebuilt",
    ]);
    assert.deepEqual((figure.layout.title as { text: string }).text, "grid");
  });

  it("throws when an image has the wrong size", () => {
    assert.throws(
      () => imageGrid([{ label: "a", images: [[1, 2, 3]] }]),
      /imageGrid: rows\[0\]\.images\[0\] must have 28x28 = 784 pixels, got an array of length 3/,
    );
  });

  it("throws when there are no rows", () => {
    assert.throws(() => imageGrid([]), /imageGrid: rows must be a non-empty array/);
  });
});

describe("lineChart", () => {
  it("numbers epochs from 1 and keeps the series order", () => {
    const figure = lineChart(
      [
        { name: "training", y: [3, 2, 1] },
        { name: "test", y: [4, 3, 2], dash: "dash" },
      ],
      { logY: true, xTitle: "epoch", yTitle: "MSE" },
    );
    assert.deepEqual(
      figure.data.map((t) => t.name),
      ["training", "test"],
    );
    assert.deepEqual(figure.data[0].x, [1, 2, 3]);
    assert.deepEqual(figure.data[1].line, { dash: "dash" });
    assert.equal((figure.layout.yaxis as { type: string }).type, "log");
    assert.equal(
      (figure.layout.xaxis as { title: { text: string } }).title.text,
      "epoch",
    );
  });
});

describe("scatter2d", () => {
  it("makes one trace per class with its points", () => {
    const figure = scatter2d(
      [
        [0, 1],
        [2, 3],
        [4, 5],
      ],
      [1, 0, 1],
      { classNames: ["zero", "one"] },
    );
    assert.deepEqual(
      figure.data.map((t) => t.name),
      ["zero", "one"],
    );
    assert.deepEqual(figure.data[1].x, [0, 4]);
    assert.deepEqual(figure.data[1].y, [1, 5]);
  });

  it("throws when labels and points differ in count", () => {
    assert.throws(
      () => scatter2d([[0, 1]], [0, 1]),
      /scatter2d: labels must have one label per point \(1\), got an array of length 2/,
    );
  });
});

describe("figureBundle", () => {
  it("carries plotly JSON, HTML and a text fallback", () => {
    const figure = lineChart([{ name: "a", y: [1, 2] }], { title: "first" });
    const bundle = figureBundle(figure);
    assert.deepEqual(bundle["application/vnd.plotly.v1+json"], {
      data: figure.data,
      layout: figure.layout,
    });
    assert.equal(bundle["text/plain"], "[figure: first]");
    assert.match(
      bundle["text/html"] as string,
      /getElementById\("aekit-figure-\d+-\d+"\)/,
    );
    assert.doesNotMatch(bundle["text/html"] as string, /window\.Plotly = Plotly/);
    assert.equal(bundle["image/png"], undefined);
  });

  it("rounds trace numbers to four significant digits", () => {
    const figure = imageGrid(
      [{ label: "digit", images: [Float32Array.from([0.123456, 1, 0, 2 / 3])] }],
      { imageHeight: 2, imageWidth: 2 },
    );
    const figureWithLine = lineChart([{ name: "loss", y: [0.0123456789, 12345.678, 3] }]);
    const bundle = figureBundle(figureWithLine);
    const data = (bundle["application/vnd.plotly.v1+json"] as { data: { y: number[] }[] })
      .data;
    assert.deepEqual(data[0].y, [0.01235, 12350, 3]);
    assert.match(bundle["text/html"] as string, /\[0\.01235,12350,3\]/);
    // the figure itself keeps full precision, for the static image
    assert.deepEqual(figureWithLine.data[0].y, [0.0123456789, 12345.678, 3]);

    const grid = JSON.stringify(figureBundle(figure)["application/vnd.plotly.v1+json"]);
    assert.match(grid, /0\.1235/);
    assert.match(grid, /0\.6667/);
    assert.doesNotMatch(grid, /0\.12345/);
  });

  it("escapes '<' in the figure data so a title cannot end the script", () => {
    const bundle = figureBundle(lineChart([{ name: "</script><b>", y: [1] }]));
    assert.doesNotMatch(bundle["text/html"] as string, /<\/script><b>/);
  });
});

describe("plotlyLibraryBundle", () => {
  it("returns the library once per process", () => {
    resetPlotlyInclusion();
    const first = plotlyLibraryBundle();
    assert.match(first?.["text/html"] as string, /window\.Plotly = Plotly/);
    assert.equal(plotlyLibraryBundle(), undefined);
  });
});

describe("progressFigure", () => {
  const logs = (epoch: number, valLoss?: number): EpochLogs => ({
    epoch,
    epochs: 3,
    loss: 0.5 / epoch,
    terms: { reconstruction: 0.4 / epoch, sparsity: 0.1 / epoch },
    valLoss,
    seconds: 1,
  });

  it("draws the total, each term and the validation loss", () => {
    const figure = progressFigure("sparse", [logs(1, 0.6), logs(2, 0.3)]);
    assert.deepEqual(
      figure.data.map((t) => t.name),
      ["training: total", "training: reconstruction", "training: sparsity", "validation"],
    );
    assert.deepEqual(figure.data[1].y, [0.4, 0.2]);
    assert.deepEqual(figure.data[3].line, { dash: "dash" });
    assert.match(
      (figure.layout.title as { text: string }).text,
      /sparse: epoch 2\/3, loss 0\.25/,
    );
  });

  it("names a single term plainly and omits missing validation", () => {
    const single = {
      epoch: 1,
      epochs: 1,
      loss: 1,
      terms: { reconstruction: 1 },
      seconds: 1,
    };
    assert.deepEqual(
      progressFigure("ae", [single]).data.map((t) => t.name),
      ["training"],
    );
  });
});

describe("tableText", () => {
  it("aligns columns and formats numbers to 4 significant digits", () => {
    const text = tableText([
      { model: "mean image", mse: 0.067812 },
      { model: "autoencoder", mse: 0.0138 },
    ]);
    assert.deepEqual(text.split("\n"), [
      "model        mse    ",
      "-----------  -------",
      "mean image   0.06781",
      "autoencoder  0.01380",
    ]);
  });

  it("reads a DataFrame-like object", () => {
    const text = tableText({ columns: ["a", "b"], values: [[1, 2.5]] });
    assert.equal(text.split("\n")[2], "1  2.500");
  });
});

describe("inTslab", () => {
  it("is false outside a kernel", () => {
    assert.equal(inTslab(), false);
  });
});
