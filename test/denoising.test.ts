import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { noisyCircle } from "../lib/src/data/manifolds";
import { denseAutoencoder } from "../lib/src/models/dense";
import {
  corruptionTransform,
  gridPoints,
  stepSeed,
  vectorField,
} from "../lib/src/models/denoising";
import { trainAutoencoder } from "../lib/src/train/fit";
import { assertClose } from "./helpers";

/** Builds a one-layer linear model 2 -> outputs with kernel [2, outputs] and zero bias. */
function linearModel(kernel: number[][]): tf.Sequential {
  const model = tf.sequential();
  model.add(
    tf.layers.dense({ units: kernel[0].length, inputShape: [2], activation: "linear" }),
  );
  model.layers[0].setWeights([tf.tensor2d(kernel), tf.zeros([kernel[0].length])]);
  return model;
}

describe("stepSeed", () => {
  it("gives the same seed for the same run seed and step", () => {
    assert.equal(stepSeed(7, 3), stepSeed(7, 3));
  });

  it("gives every step of a run its own seed", () => {
    const seeds = new Set(Array.from({ length: 1000 }, (_, step) => stepSeed(0, step)));
    assert.equal(seeds.size, 1000);
  });

  it("separates the first steps of nearby run seeds", () => {
    const first = Array.from({ length: 100 }, (_, step) => stepSeed(1, step));
    const second = new Set(Array.from({ length: 100 }, (_, step) => stepSeed(2, step)));
    assert.ok(first.every((seed) => !second.has(seed)));
  });

  it("returns non-negative 32-bit integers", () => {
    for (const seed of [-5, 0, 1, 2 ** 31 - 1]) {
      const value = stepSeed(seed, 10);
      assert.ok(Number.isInteger(value), `${value} is not an integer`);
      assert.ok(value >= 0, `${value} is negative`);
      assert.ok(value < 2 ** 32, `${value} needs more than 32 bits`);
    }
  });

  it("throws when step is negative", () => {
    assert.throws(
      () => stepSeed(0, -1),
      /stepSeed: step must be an integer >= 0, got -1/,
    );
  });

  it("throws when seed is not an integer", () => {
    assert.throws(() => stepSeed(0.5, 1), /stepSeed: seed must be an integer, got 0.5/);
  });
});

describe("corruptionTransform", () => {
  const x = tf.fill([4, 6], 0.5);
  after(() => x.dispose());

  it("keeps the batch shape", () => {
    const transform = corruptionTransform({ kind: "masking", level: 0.5, seed: 0 });
    const y = transform(x, 0);
    assert.deepEqual(y.shape, [4, 6]);
    y.dispose();
  });

  it("repeats the noise for the same seed and step", () => {
    const first = corruptionTransform({ kind: "gaussian", level: 0.1, seed: 3 })(x, 5);
    const second = corruptionTransform({ kind: "gaussian", level: 0.1, seed: 3 })(x, 5);
    assert.deepEqual(Array.from(first.dataSync()), Array.from(second.dataSync()));
    tf.dispose([first, second]);
  });

  it("draws new noise at every step", () => {
    const transform = corruptionTransform({ kind: "gaussian", level: 0.1, seed: 3 });
    const first = transform(x, 0);
    const second = transform(x, 1);
    assert.notDeepEqual(Array.from(first.dataSync()), Array.from(second.dataSync()));
    tf.dispose([first, second]);
  });

  it("masks about the requested fraction", () => {
    const ones = tf.ones([100, 100]);
    const masked = corruptionTransform({ kind: "masking", level: 0.3, seed: 1 })(ones, 2);
    const zeros = masked.dataSync().filter((v) => v === 0).length;
    // binomial(10000, 0.3) has standard deviation about 46
    assert.ok(Math.abs(zeros - 3000) < 250, `${zeros} of 10000 masked`);
    tf.dispose([ones, masked]);
  });

  it("leaks no tensors besides its output", () => {
    const before = tf.memory().numTensors;
    const transform = corruptionTransform({ kind: "saltAndPepper", level: 0.2, seed: 0 });
    assert.equal(tf.memory().numTensors, before);
    const y = transform(x, 4);
    assert.equal(tf.memory().numTensors, before + 1);
    y.dispose();
  });

  it("throws when options is not an object", () => {
    assert.throws(
      () => corruptionTransform(undefined as never),
      /corruptionTransform: options must be an object, got undefined/,
    );
  });

  it("throws when the seed is missing", () => {
    assert.throws(
      () => corruptionTransform({ kind: "gaussian", level: 0.1 } as never),
      /corruptionTransform: options\.seed must be an integer, got undefined/,
    );
  });

  it("throws when the kind is unknown, before training", () => {
    assert.throws(
      () => corruptionTransform({ kind: "blur" as "gaussian", level: 0.1, seed: 0 }),
      /corrupt: kind must be one of 'gaussian', 'masking', 'saltAndPepper', got "blur"/,
    );
  });

  it("throws when a masking level is not a probability", () => {
    assert.throws(
      () => corruptionTransform({ kind: "masking", level: 1.5, seed: 0 }),
      /corrupt: level must be in \[0, 1\] \(a probability\) for 'masking' noise, got 1.5/,
    );
  });
});

describe("gridPoints", () => {
  it("lists a 3x3 grid row by row", () => {
    assert.deepEqual(gridPoints(-1, 1, 3), [
      [-1, -1],
      [0, -1],
      [1, -1],
      [-1, 0],
      [0, 0],
      [1, 0],
      [-1, 1],
      [0, 1],
      [1, 1],
    ]);
  });

  it("has steps^2 points with both ends included", () => {
    const points = gridPoints(-2, 2, 15);
    assert.equal(points.length, 225);
    assert.deepEqual(points[0], [-2, -2]);
    assertClose(points[224], [2, 2]);
  });

  it("throws when max is not above min", () => {
    assert.throws(
      () => gridPoints(1, 1, 3),
      /gridPoints: max must be > min \(1\), got 1/,
    );
  });

  it("throws when min is not finite", () => {
    assert.throws(
      () => gridPoints(-Infinity, 1, 3),
      /gridPoints: min must be a finite number, got -Infinity/,
    );
  });

  it("throws when max - min overflows", () => {
    assert.throws(
      () => gridPoints(-1e308, 1e308, 3),
      /^AekitError: gridPoints: max - min must be finite, got Infinity \(min -1e\+308, max 1e\+308\); narrow the range$/,
    );
  });

  it("throws when the spacing underflows", () => {
    assert.throws(
      () => gridPoints(0, 5e-324, 3),
      /^AekitError: gridPoints: the spacing \(max - min\) \/ \(steps - 1\) must separate neighbouring points, got 0 for min 0, max 5e-324 and 3 steps;/,
    );
  });

  it("throws when steps is below 2", () => {
    assert.throws(
      () => gridPoints(0, 1, 1),
      /gridPoints: steps must be an integer >= 2, got 1/,
    );
  });

  it("throws when steps exceeds 2048", () => {
    assert.throws(
      () => gridPoints(0, 1, 1e6),
      /^AekitError: gridPoints: steps must be at most 2048, for at most 2\^22 grid points, got 1000000$/,
    );
  });
});

describe("vectorField", () => {
  it("returns r(x) - x of a linear model", () => {
    // r(x) = 0.5 x, so every vector is -0.5 x: halfway back to the origin
    const model = linearModel([
      [0.5, 0],
      [0, 0.5],
    ]);
    const field = vectorField(model, [
      [2, 0],
      [-1, 4],
    ]);
    assert.deepEqual(field.points, [
      [2, 0],
      [-1, 4],
    ]);
    assertClose(field.outputs.flat(), [1, 0, -0.5, 2]);
    assertClose(field.vectors.flat(), [-1, 0, 0.5, -2]);
    model.dispose();
  });

  it("leaks no tensors", () => {
    const model = linearModel([
      [1, 0],
      [0, 1],
    ]);
    const before = tf.memory().numTensors;
    vectorField(model, gridPoints(-1, 1, 4));
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  });

  it("points back to the circle after a short denoising run", async () => {
    const sample = noisyCircle({ n: 512, noise: 0, seed: 0 });
    const x = tf.tensor2d(sample.points);

    const { autoencoder } = denseAutoencoder({
      inputDim: 2,
      codeSize: 2,
      hiddenUnits: [32],
      codeActivation: "linear",
      outputActivation: "linear",
      seed: 0,
    });
    const history = await trainAutoencoder(autoencoder, {
      x,
      epochs: 15,
      batchSize: 32,
      learningRate: 1e-2,
      transformInput: corruptionTransform({ kind: "gaussian", level: 0.2, seed: 0 }),
    });
    assert.ok(
      history.loss[history.loss.length - 1] < history.loss[0] / 2,
      `loss ${history.loss[0]} -> ${history.loss[history.loss.length - 1]}`,
    );

    // Points at radius 1.5 should move inwards and points at radius 0.5 outwards
    const outside = [0, 1, 2, 3].map((k) => [1.5 * Math.cos(k), 1.5 * Math.sin(k)]);
    const inside = [0, 1, 2, 3].map((k) => [0.5 * Math.cos(k), 0.5 * Math.sin(k)]);
    const radius = (p: number[]) => Math.hypot(p[0], p[1]);
    for (const output of vectorField(autoencoder, outside).outputs) {
      assert.ok(radius(output) < 1.5, `radius 1.5 -> ${radius(output)}`);
    }
    for (const output of vectorField(autoencoder, inside).outputs) {
      assert.ok(radius(output) > 0.5, `radius 0.5 -> ${radius(output)}`);
    }

    x.dispose();
    autoencoder.dispose();
  });

  it("throws when the model is not a LayersModel", () => {
    assert.throws(
      () => vectorField({} as tf.LayersModel, [[0, 0]]),
      /vectorField: model must be a tf\.LayersModel, got an object \(Object\)/,
    );
  });

  it("throws when the model changes the dimension", () => {
    const model = linearModel([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    assert.throws(
      () => vectorField(model, [[0, 0]]),
      /vectorField: model must map \[batch, d\] to \[batch, d\], got \[batch, 2\] -> \[batch, 3\]/,
    );
    model.dispose();
  });

  it("throws when there are no points", () => {
    const model = linearModel([
      [1, 0],
      [0, 1],
    ]);
    assert.throws(
      () => vectorField(model, []),
      /vectorField: points must be a non-empty array of points, got an array of length 0/,
    );
    model.dispose();
  });

  it("throws when a point has the wrong size", () => {
    const model = linearModel([
      [1, 0],
      [0, 1],
    ]);
    assert.throws(
      () => vectorField(model, [[0, 0], [1]]),
      /vectorField: points\[1\] must be 2 finite numbers \(the model's input size\), got an array of length 1/,
    );
    model.dispose();
  });
});
