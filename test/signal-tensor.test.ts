import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { makeRng, randomNormal } from "../lib/src/core/random";
import {
  convolve,
  convolve2d,
  convolve2dTensor,
  convolveTensor,
  correlate,
  correlate2d,
  correlate2dTensor,
  correlateTensor,
} from "../lib/src/signal";
import type { ConvolveMode } from "../lib/src/signal";
import { assertClose, FLOAT32_TOLERANCE } from "./helpers";

const MODES: readonly ConvolveMode[] = ["full", "same", "valid"];

function randomImage(rows: number, cols: number, seed: number): number[][] {
  const rng = makeRng(seed);
  return Array.from({ length: rows }, () =>
    Array.from({ length: cols }, () => randomNormal(rng)),
  );
}

describe("signal tensors", () => {
  let previousBackend: string | undefined;

  before(async () => {
    previousBackend = tf.getBackend();
    await tf.setBackend("cpu");
  });

  after(async () => {
    if (previousBackend !== undefined) await tf.setBackend(previousBackend);
  });

  describe("tf.conv2d", () => {
    it("computes correlate2d, not convolve2d", () => {
      const image = randomImage(6, 7, 1);
      // an asymmetric kernel, so correlation and convolution differ
      const kernel = [
        [1, 2],
        [0, -1],
        [3, 0],
      ];
      const output = tf.tidy(() => {
        const x = tf.tensor4d(image.flat(), [1, 6, 7, 1]);
        const k = tf.tensor4d(kernel.flat(), [3, 2, 1, 1]);
        return tf.conv2d(x, k, 1, "valid");
      });
      const values = Array.from(output.dataSync());
      output.dispose();

      assertClose(values, correlate2d(image, kernel, "valid").flat(), FLOAT32_TOLERANCE);
      const convolved = convolve2d(image, kernel, "valid").flat();
      const gap = Math.max(...values.map((v, i) => Math.abs(v - convolved[i])));
      assert.ok(gap > 1, `tf.conv2d is within ${gap} of convolve2d`);
    });
  });

  describe("correlate2dTensor and convolve2dTensor", () => {
    const kernels: [number, number][] = [
      [1, 1],
      [2, 2],
      [3, 3],
      [2, 3],
      [6, 7],
    ];
    for (const [kRows, kCols] of kernels) {
      for (const mode of MODES) {
        it(`image 5x6, kernel ${kRows}x${kCols}, mode=${mode}`, () => {
          const image = randomImage(5, 6, 2);
          const kernel = randomImage(kRows, kCols, 3);
          const before = tf.memory().numTensors;
          const x = tf.tensor2d(image);
          const k = tf.tensor2d(kernel);
          const correlated = correlate2dTensor(x, k, mode);
          const convolved = convolve2dTensor(x, k, mode);
          const expected = correlate2d(image, kernel, mode);
          assert.deepEqual(correlated.shape, [expected.length, expected[0].length]);
          assertClose(correlated.dataSync(), expected.flat(), FLOAT32_TOLERANCE);
          assertClose(
            convolved.dataSync(),
            convolve2d(image, kernel, mode).flat(),
            FLOAT32_TOLERANCE,
          );
          tf.dispose([x, k, correlated, convolved]);
          assert.equal(tf.memory().numTensors, before, "tensors leaked");
        });
      }
    }
  });

  describe("correlateTensor and convolveTensor", () => {
    for (const taps of [1, 2, 5, 12]) {
      for (const mode of MODES) {
        it(`n=9, m=${taps}, mode=${mode}`, () => {
          const x = randomImage(1, 9, 4)[0];
          const h = randomImage(1, taps, 5)[0];
          const before = tf.memory().numTensors;
          const xt = tf.tensor1d(x);
          const ht = tf.tensor1d(h);
          const correlated = correlateTensor(xt, ht, mode);
          const convolved = convolveTensor(xt, ht, mode);
          assert.equal(correlated.rank, 1);
          assertClose(correlated.dataSync(), correlate(x, h, mode), FLOAT32_TOLERANCE);
          assertClose(convolved.dataSync(), convolve(x, h, mode), FLOAT32_TOLERANCE);
          tf.dispose([xt, ht, correlated, convolved]);
          assert.equal(tf.memory().numTensors, before, "tensors leaked");
        });
      }
    }
  });

  describe("tensor input checks", () => {
    it("throws when the image is not a tensor", () => {
      const k = tf.tensor2d([[1]]);
      assert.throws(
        () => correlate2dTensor([[1, 2]] as unknown as tf.Tensor2D, k),
        /^AekitError: correlate2dTensor: image must be a 2-D tensor, got an array of length 1$/,
      );
      k.dispose();
    });

    it("throws when a tensor has the wrong rank", () => {
      const x = tf.tensor2d([[1, 2]]);
      const k = tf.tensor1d([1]);
      assert.throws(
        () => convolve2dTensor(x, k as unknown as tf.Tensor2D),
        /^AekitError: convolve2dTensor: kernel must be a 2-D tensor, got a tensor of shape \[1\]$/,
      );
      tf.dispose([x, k]);
    });

    it("throws when a tensor is empty", () => {
      const x = tf.zeros([0]) as tf.Tensor1D;
      const h = tf.tensor1d([1]);
      assert.throws(
        () => correlateTensor(x, h),
        /^AekitError: correlateTensor: x must have no zero-length dimension, got a tensor of shape \[0\]$/,
      );
      tf.dispose([x, h]);
    });

    it("throws when the mode is unknown", () => {
      const x = tf.tensor1d([1, 2]);
      assert.throws(
        () => convolveTensor(x, x, "circular" as ConvolveMode),
        /^AekitError: convolveTensor: mode must be one of 'full', 'same', 'valid', got "circular"$/,
      );
      x.dispose();
    });

    it("throws when 'valid' cannot pair the sizes", () => {
      const x = tf.zeros([4, 5]) as tf.Tensor2D;
      const k = tf.zeros([2, 6]) as tf.Tensor2D;
      assert.throws(
        () => correlate2dTensor(x, k, "valid"),
        /^AekitError: correlate2dTensor: kernel must be no larger than image \(4 x 5\) in both dimensions, or no smaller in both, for mode 'valid', got 2 x 6$/,
      );
      tf.dispose([x, k]);
    });
  });
});
