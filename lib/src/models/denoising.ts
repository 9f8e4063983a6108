import * as tf from "@tensorflow/tfjs";
import { AekitError } from "../core/errors";
import { MAX_POINTS, checkFinite, checkInteger, invalid } from "../core/validate";
import { CorruptionOptions, corrupt } from "../data/corruptions";

/**
 * Derives the seed of one training step from a run's seed. For a fixed run seed the map
 * from step to seed is one-to-one (for steps below 2^32), so no two batches of a run share
 * a corruption. The run seed is scrambled first (an XOR, then a multiplication by an odd
 * constant, both one-to-one on 32 bits), so the step seeds of run seed 0 are not simply
 * 0, 1, 2, ... and are unlikely to coincide with small seeds chosen for test data.
 * Run seeds count modulo 2^32.
 */
export function stepSeed(seed: number, step: number): number {
  checkInteger("stepSeed", "seed", seed);
  checkInteger("stepSeed", "step", step, 0);
  return (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + step) >>> 0;
}

/**
 * Makes the per-batch corruption of a denoising autoencoder, for trainAutoencoder's
 * `transformInput`: batch `step` is corrupted with `options` and the seed
 * stepSeed(options.seed, step), so every batch gets fresh noise and a rerun with the
 * same seed repeats it. The targets stay clean. Notebook 05 trains with it.
 */
export function corruptionTransform(
  options: CorruptionOptions,
): (x: tf.Tensor, step: number) => tf.Tensor {
  const fn = "corruptionTransform";
  if (typeof options !== "object" || options === null) {
    invalid(fn, "options", "be an object", options);
  }
  const seed = checkInteger(fn, "options.seed", options.seed);
  // Corrupting a one-value tensor now rejects a bad kind, level or clip before training
  tf.tidy(() => {
    corrupt(tf.zeros([1, 1]), { ...options, seed });
  });

  return (x, step) => corrupt(x, { ...options, seed: stepSeed(seed, step) });
}

/**
 * Builds a square grid of 2-D points spanning [min, max] on both axes, `steps` points
 * per axis, row by row (y outer, x inner). Notebook 05 evaluates vector fields on it.
 */
export function gridPoints(min: number, max: number, steps: number): number[][] {
  const fn = "gridPoints";
  checkFinite(fn, "min", min);
  checkFinite(fn, "max", max);
  if (max <= min) invalid(fn, "max", `be > min (${min})`, max);
  // -1e308 to 1e308 is a range of Infinity, which would make every point NaN
  if (!Number.isFinite(max - min)) {
    throw new AekitError(
      `${fn}: max - min must be finite, got ${max - min} (min ${min}, max ${max}); ` +
        "narrow the range",
    );
  }
  checkInteger(fn, "steps", steps, 2);
  // the grid has steps^2 points, each a small array of its own, so cap it at MAX_POINTS
  const maxSteps = Math.floor(Math.sqrt(MAX_POINTS));
  if (steps > maxSteps) {
    invalid(fn, "steps", `be at most ${maxSteps}, for at most 2^22 grid points`, steps);
  }
  const spacing = (max - min) / (steps - 1);
  if (!(min + spacing > min)) {
    throw new AekitError(
      `${fn}: the spacing (max - min) / (steps - 1) must separate neighbouring points, ` +
        `got ${spacing} for min ${min}, max ${max} and ${steps} steps; widen the range ` +
        "or use fewer steps",
    );
  }

  const points: number[][] = [];
  for (let row = 0; row < steps; row++) {
    for (let column = 0; column < steps; column++) {
      points.push([min + column * spacing, min + row * spacing]);
    }
  }
  return points;
}

/** A vector field sampled at points: each point, its image under a model, and their difference. */
export interface VectorField {
  /** The points the field is evaluated at, one row each. */
  points: number[][];
  /** The model's output r(x) at each point. */
  outputs: number[][];
  /** r(x) - x at each point: the step the model takes from x. */
  vectors: number[][];
}

/**
 * Evaluates the vector field r(x) - x of a model that maps points to points of the same
 * dimension, such as a denoising autoencoder on a 2-D manifold (notebook 05). Where the
 * model has learned to denoise, the vectors point from x towards the data.
 */
export function vectorField(model: tf.LayersModel, points: number[][]): VectorField {
  const fn = "vectorField";
  if (!(model instanceof tf.LayersModel))
    invalid(fn, "model", "be a tf.LayersModel", model);
  if (!Array.isArray(points) || points.length === 0) {
    invalid(fn, "points", "be a non-empty array of points", points);
  }
  const dim = model.inputs[0].shape[1];
  if (model.inputs[0].shape.length !== 2 || model.outputs[0].shape[1] !== dim) {
    const shape = (s: (number | null)[]) => `[${s.map((d) => d ?? "batch").join(", ")}]`;
    const shapes = `${shape(model.inputs[0].shape)} -> ${shape(model.outputs[0].shape)}`;
    throw new AekitError(`${fn}: model must map [batch, d] to [batch, d], got ${shapes}`);
  }
  points.forEach((point, i) => {
    if (!Array.isArray(point) || point.length !== dim || !point.every(Number.isFinite)) {
      invalid(
        fn,
        `points[${i}]`,
        `be ${dim} finite numbers (the model's input size)`,
        point,
      );
    }
  });

  const outputs = tf.tidy(() => {
    const y = model.predict(tf.tensor2d(points)) as tf.Tensor2D;
    return y.arraySync();
  });
  const vectors = outputs.map((output, i) => output.map((v, d) => v - points[i][d]));
  return { points: points.map((p) => [...p]), outputs, vectors };
}
