import * as assert from "node:assert/strict";
import { quiverPlot } from "../lib/src/figures/quiver";
import { assertClose } from "./helpers";

// A wing of the head leaves the tip at 25 degrees to the reversed shaft
const SIN_25 = Math.sin((25 * Math.PI) / 180);
const COS_25 = Math.cos((25 * Math.PI) / 180);

type Coordinates = (number | null)[];

describe("quiverPlot", () => {
  it("draws a shaft and two wings per arrow", () => {
    const figure = quiverPlot([[0, 0]], [[1, 0]], { headFraction: 0.3 });
    assert.equal(figure.data.length, 1);
    const xs = figure.data[0].x as Coordinates;
    const ys = figure.data[0].y as Coordinates;
    assert.equal(xs.length, 7);
    assert.deepEqual(xs.slice(0, 3), [0, 1, null]);
    assert.deepEqual(ys.slice(0, 3), [0, 0, null]);
    assertClose(
      xs.slice(3, 6) as number[],
      [1 - 0.3 * COS_25, 1, 1 - 0.3 * COS_25],
      1e-4,
    );
    assertClose(ys.slice(3, 6) as number[], [-0.3 * SIN_25, 0, 0.3 * SIN_25], 1e-4);
    assert.equal(xs[6], null);
  });

  it("scales vectors and keeps their direction", () => {
    const figure = quiverPlot([[1, 2]], [[0, -1]], { scale: 0.5 });
    const xs = figure.data[0].x as Coordinates;
    const ys = figure.data[0].y as Coordinates;
    // the tip moves half of (0, -1) from (1, 2)
    assert.deepEqual(xs.slice(0, 2), [1, 1]);
    assert.deepEqual(ys.slice(0, 2), [2, 1.5]);
    assert.equal(xs[4], 1);
    assert.equal(ys[4], 1.5);
  });

  it("draws the points over the arrows", () => {
    const figure = quiverPlot([[0, 0]], [[1, 1]], {
      points: [
        [0.5, 0.25],
        [1, 2],
      ],
      pointsName: "circle",
      arrowsName: "r(x) - x",
    });
    assert.deepEqual(
      figure.data.map((trace) => trace.name),
      ["r(x) - x", "circle"],
    );
    assert.deepEqual(figure.data[1].x, [0.5, 1]);
    assert.deepEqual(figure.data[1].y, [0.25, 2]);
    assert.equal(figure.data[1].mode, "markers");
  });

  it("keeps one scale on both axes", () => {
    const figure = quiverPlot([[0, 0]], [[1, 0]], { title: "field" });
    const yaxis = figure.layout.yaxis as { scaleanchor: string; scaleratio: number };
    assert.equal(yaxis.scaleanchor, "x");
    assert.equal(yaxis.scaleratio, 1);
    assert.equal((figure.layout.title as { text: string }).text, "field");
  });

  it("rounds coordinates to 4 decimals", () => {
    const figure = quiverPlot([[1 / 3, 2 / 3]], [[0, 0]]);
    assert.deepEqual((figure.data[0].x as Coordinates).slice(0, 2), [0.3333, 0.3333]);
    assert.deepEqual((figure.data[0].y as Coordinates).slice(0, 2), [0.6667, 0.6667]);
  });

  it("throws when there are no origins", () => {
    assert.throws(
      () => quiverPlot([], []),
      /quiverPlot: origins must be a non-empty array, got an array of length 0/,
    );
  });

  it("throws when origins is not an array", () => {
    assert.throws(
      () => quiverPlot(null as unknown as number[][], []),
      /quiverPlot: origins must be an array of \[x, y\] pairs, got null/,
    );
  });

  it("throws when an origin is not a pair", () => {
    assert.throws(
      () => quiverPlot([[0, 0, 0]], [[1, 1]]),
      /quiverPlot: origins\[0\] must be a pair of finite numbers, got an array of length 3/,
    );
  });

  it("throws when a vector is not finite", () => {
    assert.throws(
      () => quiverPlot([[0, 0]], [[NaN, 1]]),
      /quiverPlot: vectors\[0\] must be a pair of finite numbers, got an array of length 2/,
    );
  });

  it("throws when counts differ", () => {
    assert.throws(
      () => quiverPlot([[0, 0]], []),
      /quiverPlot: vectors must have one vector per origin \(1\), got an array of length 0/,
    );
  });

  it("throws when scale is not positive", () => {
    assert.throws(
      () => quiverPlot([[0, 0]], [[1, 1]], { scale: 0 }),
      /quiverPlot: scale must be > 0, got 0/,
    );
  });

  it("throws when headFraction is above 1", () => {
    assert.throws(
      () => quiverPlot([[0, 0]], [[1, 1]], { headFraction: 2 }),
      /quiverPlot: headFraction must be in \[0, 1\], got 2/,
    );
  });

  it("throws when a background point is not a pair", () => {
    assert.throws(
      () => quiverPlot([[0, 0]], [[1, 1]], { points: [[1]] }),
      /quiverPlot: points\[0\] must be a pair of finite numbers, got an array of length 1/,
    );
  });
});
