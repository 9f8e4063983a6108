import * as tf from "@tensorflow/tfjs";
import { makeRng, permutation } from "../core/random";
import { checkFinite, checkInteger, invalid } from "../core/validate";

/** A set of grayscale images, row-major, with pixel values in [0, 1] and integer labels. */
export interface ImageSet {
  /** Pixels, `count * height * width` values in [0, 1]. */
  images: Float32Array;
  /** One class label per image. */
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
  /** Class names by label, for legends. */
  classNames: readonly string[];
}

/** Images and labels as tensors: x is [count, height * width] float32, y is [count] int32. */
export interface TensorSplit {
  x: tf.Tensor2D;
  y: tf.Tensor1D;
}

/** Returns the images at `indices`, in that order. */
export function takeImages(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const size = set.height * set.width;
  const images = new Float32Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const from = indices[i];
    if (!Number.isInteger(from) || from < 0 || from >= set.count) {
      invalid(
        "takeImages",
        `indices[${i}]`,
        `be an integer in [0, ${set.count - 1}]`,
        from,
      );
    }
    images.set(set.images.subarray(from * size, (from + 1) * size), i * size);
    labels[i] = set.labels[from];
  }
  return { ...set, images, labels, count: indices.length };
}

/** Options of a seeded train/test split. */
export interface SplitOptions {
  /** Fraction of the images that go to the test set, in (0, 1). Default 0.2. */
  testFraction?: number;
  /** Seed of the shuffle that precedes the split. Default 0. */
  seed?: number;
}

/** Shuffles `set` with a seed and splits it into a train and a test set. */
export function splitTrainTest(
  set: ImageSet,
  options: SplitOptions = {},
): { train: ImageSet; test: ImageSet } {
  const testFraction = checkFinite(
    "splitTrainTest",
    "testFraction",
    options.testFraction ?? 0.2,
  );
  if (testFraction <= 0 || testFraction >= 1) {
    invalid(
      "splitTrainTest",
      "testFraction",
      "be in the open interval (0, 1)",
      testFraction,
    );
  }
  const seed = checkInteger("splitTrainTest", "seed", options.seed ?? 0);
  const order = permutation(set.count, makeRng(seed));
  const testCount = Math.round(set.count * testFraction);
  return {
    test: takeImages(set, order.subarray(0, testCount)),
    train: takeImages(set, order.subarray(testCount)),
  };
}

/** Converts an image set to tensors: x as [count, height * width], y as int32 labels. */
export function toTensors(set: ImageSet): TensorSplit {
  return {
    x: tf.tensor2d(set.images, [set.count, set.height * set.width], "float32"),
    y: tf.tensor1d(Int32Array.from(set.labels), "int32"),
  };
}
