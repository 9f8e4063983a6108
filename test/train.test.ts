import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { denseAutoencoder } from "../lib/src/models/dense";
import {
  trainAutoencoder,
  evaluateLoss,
  type LossFunction,
  type LossTerms,
  type TrainOptions,
} from "../lib/src/train/fit";
import { loadMnist } from "../lib/src/data/mnist";
import { assertClaim, checkShape } from "../lib/src/core/claims";
import { AekitError } from "../lib/src/core/errors";

describe("denseAutoencoder", () => {
  for (const hiddenUnits of [[], [64], [128, 64]]) {
    for (const codeSize of [2, 32]) {
      it(`maps [5, 784] to [5, ${codeSize}] and back, hidden=[${hiddenUnits}]`, () => {
        const { encoder, decoder, autoencoder } = denseAutoencoder({
          inputDim: 784,
          codeSize,
          hiddenUnits,
        });
        assert.deepEqual(encoder.outputs[0].shape, [null, codeSize]);
        assert.deepEqual(decoder.outputs[0].shape, [null, 784]);
        assert.deepEqual(autoencoder.outputs[0].shape, [null, 784]);
        // weights and biases of each dense layer, encoder then mirrored decoder
        const sizes = [784, ...hiddenUnits, codeSize, ...[...hiddenUnits].reverse(), 784];
        let expected = 0;
        for (let i = 1; i < sizes.length; i++)
          expected += sizes[i - 1] * sizes[i] + sizes[i];
        assert.equal(autoencoder.countParams(), expected);
        autoencoder.dispose();
      });
    }
  }

  it("gives the same weights for the same seed", () => {
    const a = denseAutoencoder({ inputDim: 20, codeSize: 3, hiddenUnits: [8], seed: 7 });
    const b = denseAutoencoder({ inputDim: 20, codeSize: 3, hiddenUnits: [8], seed: 7 });
    const wa = a.autoencoder.getWeights().map((w) => Array.from(w.dataSync()));
    const wb = b.autoencoder.getWeights().map((w) => Array.from(w.dataSync()));
    assert.deepEqual(wa, wb);
    a.autoencoder.dispose();
    b.autoencoder.dispose();
  });

  it("outputs values in [0, 1] with the default sigmoid", () => {
    const { autoencoder } = denseAutoencoder({ inputDim: 10, codeSize: 2 });
    const y = autoencoder.predict(
      tf.randomNormal([4, 10], 0, 10, "float32", 1),
    ) as tf.Tensor;
    const values = y.dataSync();
    assert.ok(values.every((v) => v >= 0 && v <= 1));
    tf.dispose(y);
    autoencoder.dispose();
  });

  it("throws when codeSize is not a positive integer", () => {
    assert.throws(
      () => denseAutoencoder({ inputDim: 784, codeSize: 0 }),
      /denseAutoencoder: codeSize must be an integer >= 1, got 0/,
    );
  });

  it("throws when an activation is unknown", () => {
    assert.throws(
      () =>
        denseAutoencoder({ inputDim: 784, codeSize: 8, activation: "relu6" as "relu" }),
      /denseAutoencoder: activation must be one of 'relu', 'sigmoid', 'tanh', 'linear', 'elu', 'selu', got "relu6"/,
    );
  });

  it("throws when options is missing", () => {
    assert.throws(
      () => (denseAutoencoder as (options?: unknown) => unknown)(),
      /^AekitError: denseAutoencoder: options must be an object such as \{ inputDim: 784, codeSize: 32 \}, got undefined$/,
    );
  });

  it("throws when the model exceeds 2^28 weights", () => {
    // 1e6 * 1e5 weights in each direction, plus 1e5 + 1e6 biases
    assert.throws(
      () => denseAutoencoder({ inputDim: 1e6, codeSize: 1e5 }),
      /^AekitError: denseAutoencoder: the model must have at most 268435456 \(2\^28\) weights and biases, got 200001100000 for inputDim 1000000, hiddenUnits \[\], codeSize 100000; use smaller layers$/,
    );
  });

  it("throws when a hidden width is invalid", () => {
    assert.throws(
      () => denseAutoencoder({ inputDim: 784, codeSize: 8, hiddenUnits: [64, -1] }),
      /hiddenUnits\[1\] must be an integer >= 1, got -1/,
    );
  });
});

describe("trainAutoencoder", () => {
  let data: ReturnType<typeof loadMnist>;
  before(() => {
    data = loadMnist({ seed: 0, trainSize: 512, testSize: 256 });
  });
  after(() => tf.dispose([data.train.x, data.train.y, data.test.x, data.test.y]));

  it("lowers the loss on real digits without leaking tensors", async () => {
    const { autoencoder } = denseAutoencoder({
      inputDim: 784,
      codeSize: 16,
      hiddenUnits: [64],
      seed: 1,
    });
    const before = tf.memory().numTensors;
    const history = await trainAutoencoder(autoencoder, {
      x: data.train.x,
      epochs: 4,
      batchSize: 64,
      learningRate: 3e-3,
      validation: { x: data.test.x },
    });
    assert.equal(tf.memory().numTensors, before);
    assert.equal(history.loss.length, 4);
    assert.equal(history.valLoss.length, 4);
    assert.ok(history.loss[3] < 0.6 * history.loss[0], `loss ${history.loss}`);
    assert.ok(history.valLoss[3] < history.valLoss[0], `validation ${history.valLoss}`);
    autoencoder.dispose();
  });

  it("repeats the loss history for the same seeds", async () => {
    const run = async () => {
      const { autoencoder } = denseAutoencoder({ inputDim: 784, codeSize: 8, seed: 3 });
      const history = await trainAutoencoder(autoencoder, {
        x: data.train.x,
        epochs: 2,
        seed: 9,
      });
      autoencoder.dispose();
      return history.loss;
    };
    assert.deepEqual(await run(), await run());
  });

  it("logs each loss term of a custom loss", async () => {
    const { encoder, decoder, autoencoder } = denseAutoencoder({
      inputDim: 784,
      codeSize: 8,
      seed: 2,
    });
    const history = await trainAutoencoder(autoencoder, {
      x: data.train.x,
      epochs: 2,
      loss: (x, target) => {
        const code = encoder.apply(x) as tf.Tensor;
        const output = decoder.apply(code) as tf.Tensor;
        return {
          reconstruction: tf.losses.meanSquaredError(target, output) as tf.Scalar,
          activity: code.abs().mean().mul(1e-3) as tf.Scalar,
        };
      },
    });
    assert.deepEqual(Object.keys(history.terms).sort(), ["activity", "reconstruction"]);
    const sum = history.terms.reconstruction[1] + history.terms.activity[1];
    assert.ok(Math.abs(history.loss[1] - sum) < 1e-9);
    autoencoder.dispose();
  });

  it("calls onEpochEnd once per epoch with the logs", async () => {
    const { autoencoder } = denseAutoencoder({ inputDim: 784, codeSize: 4 });
    const seen: number[] = [];
    await trainAutoencoder(autoencoder, {
      x: data.test.x,
      epochs: 3,
      onEpochEnd: (logs) => {
        seen.push(logs.epoch);
      },
    });
    assert.deepEqual(seen, [1, 2, 3]);
    autoencoder.dispose();
  });

  it("evaluates the loss in batches like one pass", () => {
    const { autoencoder } = denseAutoencoder({ inputDim: 784, codeSize: 4 });
    const loss = (x: tf.Tensor, target: tf.Tensor) => ({
      reconstruction: tf.losses.meanSquaredError(
        target,
        autoencoder.apply(x) as tf.Tensor,
      ) as tf.Scalar,
    });
    const batched = evaluateLoss(loss, data.test.x, data.test.x, 100).reconstruction;
    const whole = evaluateLoss(loss, data.test.x, data.test.x, 10000).reconstruction;
    assert.ok(Math.abs(batched - whole) < 1e-6 * whole);
    autoencoder.dispose();
  });

  it("evaluateLoss rejects an invalid batchSize", () => {
    const loss = () => ({ reconstruction: tf.scalar(0) });
    for (const batchSize of [0.5, 0, -1, NaN]) {
      assert.throws(
        () => evaluateLoss(loss, data.test.x, data.test.x, batchSize),
        new RegExp(
          `^AekitError: evaluateLoss: batchSize must be an integer.*, got ${batchSize}$`,
        ),
      );
    }
  });

  it("evaluateLoss rejects another target row count", () => {
    const loss = () => ({ reconstruction: tf.scalar(0) });
    assert.throws(
      () => evaluateLoss(loss, data.train.x, data.test.x),
      /evaluateLoss: target must have as many rows as x \(512\), got a tensor of shape \[256, 784\]/,
    );
  });

  it("throws when target has another row count", async () => {
    const { autoencoder } = denseAutoencoder({ inputDim: 784, codeSize: 4 });
    await assert.rejects(
      trainAutoencoder(autoencoder, { x: data.train.x, target: data.test.x }),
      /trainAutoencoder: target must have as many rows as x \(512\), got a tensor of shape \[256, 784\]/,
    );
    autoencoder.dispose();
  });

  it("throws when epochs is not a positive integer", async () => {
    const { autoencoder } = denseAutoencoder({ inputDim: 784, codeSize: 4 });
    await assert.rejects(
      trainAutoencoder(autoencoder, { x: data.train.x, epochs: 0 }),
      /epochs must be an integer >= 1, got 0/,
    );
    autoencoder.dispose();
  });

  it("throws when x contains NaN", async () => {
    const { autoencoder } = denseAutoencoder({ inputDim: 4, codeSize: 2 });
    const x = tf.tensor2d([
      [0, 1, 0, 1],
      [1, 0, NaN, 0],
    ]);
    await assert.rejects(
      trainAutoencoder(autoencoder, { x, epochs: 1 }),
      /trainAutoencoder: x must contain only finite values, got NaN in row 1 \(flat index 6\)/,
    );
    tf.dispose(x);
    autoencoder.dispose();
  });

  it("throws when validation.x contains Infinity", async () => {
    const { autoencoder } = denseAutoencoder({ inputDim: 2, codeSize: 1 });
    const x = tf.tensor2d([[0, 1]]);
    const valX = tf.tensor2d([
      [0, 1],
      [Infinity, 0],
    ]);
    await assert.rejects(
      trainAutoencoder(autoencoder, { x, epochs: 1, validation: { x: valX } }),
      /trainAutoencoder: validation.x must contain only finite values, got Infinity in row 1/,
    );
    tf.dispose([x, valX]);
    autoencoder.dispose();
  });

  it("throws when the loss becomes NaN", async () => {
    const { autoencoder } = denseAutoencoder({ inputDim: 4, codeSize: 2, seed: 1 });
    const x = tf.randomUniform([8, 4], 0, 1, "float32", 5);
    // 8 rows in batches of 4 take 2 steps per epoch, so step 3 is in epoch 2
    let calls = 0;
    const loss = (input: tf.Tensor, target: tf.Tensor) => {
      calls++;
      const mse = tf.losses.meanSquaredError(
        target,
        autoencoder.apply(input) as tf.Tensor,
      );
      return { reconstruction: (calls >= 3 ? mse.mul(NaN) : mse) as tf.Scalar };
    };
    const before = tf.memory().numTensors;
    await assert.rejects(
      trainAutoencoder(autoencoder, { x, epochs: 3, batchSize: 4, loss }),
      /trainAutoencoder: the training loss became NaN in epoch 2 \(reconstruction NaN\); .*lower learningRate \(now 0.001\) by a factor of 10/,
    );
    assert.equal(tf.memory().numTensors, before);
    tf.dispose(x);
    autoencoder.dispose();
  });

  it("throws when x has the wrong width", async () => {
    const { autoencoder } = denseAutoencoder({ inputDim: 784, codeSize: 4 });
    const x = tf.zeros([3, 10]);
    await assert.rejects(
      trainAutoencoder(autoencoder, { x }),
      /trainAutoencoder: x must have shape \[count, 784\] to match the model's input, got a tensor of shape \[3, 10\]/,
    );
    tf.dispose(x);
    autoencoder.dispose();
  });

  it("throws when validation.x has the wrong width", async () => {
    const { autoencoder } = denseAutoencoder({ inputDim: 784, codeSize: 4 });
    const valX = tf.zeros([2, 783]);
    await assert.rejects(
      trainAutoencoder(autoencoder, { x: data.test.x, validation: { x: valX } }),
      /trainAutoencoder: validation.x must have shape \[count, 784\] to match the model's input, got a tensor of shape \[2, 783\]/,
    );
    tf.dispose(valX);
    autoencoder.dispose();
  });

  it("throws when validation.x is not a tensor", async () => {
    const { autoencoder } = denseAutoencoder({ inputDim: 784, codeSize: 4 });
    await assert.rejects(
      trainAutoencoder(autoencoder, {
        x: data.test.x,
        validation: { x: [[0, 1]] as unknown as tf.Tensor },
      }),
      /trainAutoencoder: validation.x must be a tf.Tensor, got an array of length 1/,
    );
    autoencoder.dispose();
  });

  it("throws when model is not a LayersModel", async () => {
    await assert.rejects(
      trainAutoencoder({} as tf.LayersModel, { x: data.test.x }),
      /trainAutoencoder: model must be a tf.LayersModel, got an object \(Object\)/,
    );
  });

  it("throws when options is missing", async () => {
    const { autoencoder } = denseAutoencoder({ inputDim: 784, codeSize: 4 });
    await assert.rejects(
      trainAutoencoder(autoencoder, undefined as unknown as TrainOptions),
      /trainAutoencoder: options must be an object such as \{ x, epochs: 10 \}, got undefined/,
    );
    autoencoder.dispose();
  });
});

describe("trainAutoencoder argument checks", () => {
  let autoencoder: tf.LayersModel;
  let x: tf.Tensor;
  beforeEach(() => {
    autoencoder = denseAutoencoder({ inputDim: 4, codeSize: 2, seed: 1 }).autoencoder;
    x = tf.randomUniform([10, 4], 0, 1, "float32", 3);
  });
  afterEach(() => {
    tf.dispose(x);
    autoencoder.dispose();
  });

  const mse =
    (model: tf.LayersModel) =>
    (input: tf.Tensor, target: tf.Tensor): LossTerms => ({
      reconstruction: tf.losses.meanSquaredError(
        target,
        model.apply(input) as tf.Tensor,
      ) as tf.Scalar,
    });

  it("throws when target has the wrong width, without leaking", async () => {
    const target = tf.ones([10, 7]);
    const before = tf.memory().numTensors;
    await assert.rejects(
      trainAutoencoder(autoencoder, { x, target, epochs: 1 }),
      /trainAutoencoder: target must have shape \[count, 4\] to match the model's output, got a tensor of shape \[10, 7\]/,
    );
    assert.equal(tf.memory().numTensors, before);
    tf.dispose(target);
  });

  it("throws when validation.target has the wrong width", async () => {
    const target = tf.ones([10, 7]);
    await assert.rejects(
      trainAutoencoder(autoencoder, { x, epochs: 1, validation: { x, target } }),
      /trainAutoencoder: validation.target must have shape \[count, 4\] to match the model's output, got a tensor of shape \[10, 7\]/,
    );
    tf.dispose(target);
  });

  it("releases every tensor when the loss throws", async () => {
    // 10 rows in batches of 2 take 5 steps, so the third call throws mid-epoch
    let calls = 0;
    const loss = (input: tf.Tensor, target: tf.Tensor) => {
      if (++calls === 3) throw new Error("loss failed on purpose");
      return mse(autoencoder)(input, target);
    };
    const before = tf.memory().numTensors;
    await assert.rejects(
      trainAutoencoder(autoencoder, { x, epochs: 1, batchSize: 2, loss }),
      /^Error: loss failed on purpose$/,
    );
    assert.equal(tf.memory().numTensors, before);
  });

  it("throws when loss is not a function", async () => {
    await assert.rejects(
      trainAutoencoder(autoencoder, { x, loss: 5 as unknown as LossFunction }),
      /trainAutoencoder: loss must be a function \(x, target\) => loss terms, got 5/,
    );
  });

  it("throws when optimizer is a name", async () => {
    await assert.rejects(
      trainAutoencoder(autoencoder, { x, optimizer: "adam" as unknown as tf.Optimizer }),
      /trainAutoencoder: optimizer must be a tf.Optimizer such as tf.train.adam\(1e-3\), got "adam"/,
    );
  });

  it("throws when transformInput is not a function", async () => {
    await assert.rejects(
      trainAutoencoder(autoencoder, {
        x,
        transformInput: 3 as unknown as TrainOptions["transformInput"],
      }),
      /trainAutoencoder: transformInput must be a function \(x, step\) => x, got 3/,
    );
  });

  it("throws when onEpochEnd is not a function", async () => {
    await assert.rejects(
      trainAutoencoder(autoencoder, {
        x,
        onEpochEnd: "log" as unknown as TrainOptions["onEpochEnd"],
      }),
      /trainAutoencoder: onEpochEnd must be a function \(logs\) => void, got "log"/,
    );
  });

  it("throws when the loss returns no terms", async () => {
    const before = tf.memory().numTensors;
    await assert.rejects(
      trainAutoencoder(autoencoder, { x, epochs: 1, loss: () => ({}) }),
      /trainAutoencoder: loss must return an object of scalar tensors such as \{ reconstruction: mse \}, got an object with no terms/,
    );
    assert.equal(tf.memory().numTensors, before);
  });

  it("throws when the loss returns a vector, without leaking", async () => {
    const loss = (input: tf.Tensor) => ({
      reconstruction: (autoencoder.apply(input) as tf.Tensor).sum(1) as tf.Scalar,
    });
    const before = tf.memory().numTensors;
    await assert.rejects(
      trainAutoencoder(autoencoder, { x, epochs: 1, loss }),
      /trainAutoencoder: loss must return scalar tensors, got a tensor of shape \[10\] for term 'reconstruction'; reduce the term/,
    );
    assert.equal(tf.memory().numTensors, before);
  });

  it("throws when the model has no trainable weights", async () => {
    autoencoder.trainable = false;
    await assert.rejects(
      trainAutoencoder(autoencoder, { x, epochs: 1 }),
      /trainAutoencoder: model must have trainable weights, got a model with none/,
    );
  });

  it("throws when x is disposed", async () => {
    const disposed = tf.ones([3, 4]);
    disposed.dispose();
    await assert.rejects(
      trainAutoencoder(autoencoder, { x: disposed, epochs: 1 }),
      /trainAutoencoder: x must be a tensor that is not disposed, got a disposed tensor of shape \[3, 4\]/,
    );
  });

  it("throws when transformInput changes the shape, without leaking", async () => {
    const before = tf.memory().numTensors;
    await assert.rejects(
      trainAutoencoder(autoencoder, {
        x,
        epochs: 1,
        batchSize: 5,
        transformInput: (batch) => batch.slice([0, 0], [batch.shape[0], 2]),
      }),
      /trainAutoencoder: transformInput must return a tensor of the batch's shape \[5, 4\], got \[5, 2\]; corrupt the batch without changing its shape/,
    );
    assert.equal(tf.memory().numTensors, before);
  });

  it("throws when transformInput returns no tensor", async () => {
    await assert.rejects(
      trainAutoencoder(autoencoder, {
        x,
        epochs: 1,
        transformInput: (() => [1, 2]) as unknown as TrainOptions["transformInput"],
      }),
      /trainAutoencoder: transformInput must return a tensor of the batch's shape \[10, 4\], got an array/,
    );
  });

  it("names the batch when the loss fails inside TensorFlow.js", async () => {
    // A loss that applies the model to half the features, as a wrong reshape would
    const loss = (input: tf.Tensor, target: tf.Tensor) =>
      mse(autoencoder)(input.slice([0, 0], [input.shape[0], 2]), target);
    const before = tf.memory().numTensors;
    const rejection = await trainAutoencoder(autoencoder, { x, epochs: 1, loss }).then(
      () => assert.fail("training did not throw"),
      (err: unknown) => err,
    );
    assert.ok(rejection instanceof AekitError, `got ${String(rejection)}`);
    assert.match(
      rejection.message,
      /trainAutoencoder: the loss function failed on a batch of x \[10, 4\] and target \[10, 4\]: .*expected axis -1 of input shape to have value 4/,
    );
    assert.ok(rejection.cause instanceof Error, "the tfjs error is kept as the cause");
    assert.equal(tf.memory().numTensors, before);
  });

  it("throws when validation.x has no rows", async () => {
    const valX = tf.zeros([0, 4]);
    await assert.rejects(
      trainAutoencoder(autoencoder, { x, epochs: 1, validation: { x: valX } }),
      /trainAutoencoder: validation.x must contain at least one example, got a tensor of shape \[0, 4\]/,
    );
    tf.dispose(valX);
  });
});

describe("evaluateLoss argument checks", () => {
  const zeroLoss = () => ({ reconstruction: tf.scalar(0) });

  it("throws when x is a scalar", () => {
    const scalar = tf.scalar(1);
    assert.throws(
      () => evaluateLoss(zeroLoss, scalar, scalar),
      /evaluateLoss: x must have shape \[count, ...features\], rank 2 or more, got a tensor of shape \[\]/,
    );
    scalar.dispose();
  });

  it("throws when x has no rows", () => {
    const empty = tf.zeros([0, 4]);
    assert.throws(
      () => evaluateLoss(zeroLoss, empty, empty),
      /evaluateLoss: x must contain at least one example, got a tensor of shape \[0, 4\]/,
    );
    empty.dispose();
  });

  it("throws when x contains NaN", () => {
    const x = tf.tensor2d([
      [0, 1],
      [NaN, 0],
    ]);
    assert.throws(
      () => evaluateLoss(zeroLoss, x, x),
      /evaluateLoss: x must contain only finite values, got NaN in row 1 \(flat index 2\)/,
    );
    x.dispose();
  });

  it("throws when the loss returns a vector, without leaking", () => {
    const x = tf.ones([3, 2]);
    const before = tf.memory().numTensors;
    assert.throws(
      () => evaluateLoss((input) => ({ total: input.sum(1) as tf.Scalar }), x, x),
      /evaluateLoss: loss must return scalar tensors, got a tensor of shape \[3\] for term 'total'/,
    );
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
  });

  it("names the shapes when the model rejects x", () => {
    const autoencoder = denseAutoencoder({
      inputDim: 4,
      codeSize: 2,
      seed: 1,
    }).autoencoder;
    const loss = (input: tf.Tensor, target: tf.Tensor): LossTerms => ({
      reconstruction: tf.losses.meanSquaredError(
        target,
        autoencoder.apply(input) as tf.Tensor,
      ) as tf.Scalar,
    });
    const wide = tf.ones([3, 7]);
    const before = tf.memory().numTensors;
    assert.throws(
      () => evaluateLoss(loss, wide, wide),
      /evaluateLoss: the loss function failed on a batch of x \[3, 7\] and target \[3, 7\]: .*Check that x and target have the shapes of the model's input and output/,
    );
    assert.equal(tf.memory().numTensors, before);
    wide.dispose();
    autoencoder.dispose();
  });

  it("throws when the loss returns a number", () => {
    const x = tf.ones([3, 2]);
    const loss = (() => ({ total: 1 })) as unknown as LossFunction;
    assert.throws(
      () => evaluateLoss(loss, x, x),
      /evaluateLoss: loss must return scalar tensors, got 1 for term 'total'/,
    );
    x.dispose();
  });

  it("throws when the loss returns a bare tensor", () => {
    const x = tf.ones([3, 2]);
    const loss = ((input: tf.Tensor) => input.mean()) as unknown as LossFunction;
    assert.throws(
      () => evaluateLoss(loss, x, x),
      /evaluateLoss: loss must return an object of scalar tensors such as \{ reconstruction: mse \}, got a tensor of shape \[\]; name a single scalar term, as in \{ loss: value \}/,
    );
    x.dispose();
  });
});

describe("claims", () => {
  it("passes a true claim and prints it", () => {
    assertClaim("loss", 0.01, "<", 0.02);
  });

  it("throws on a false claim with both numbers", () => {
    assert.throws(
      () => assertClaim("test MSE", 0.03, "<", 0.02),
      /claim failed: test MSE: measured 0\.03 < 0\.02 does not hold/,
    );
  });

  it("throws on NaN whatever the comparison", () => {
    assert.throws(() => assertClaim("loss", NaN, ">", 0), /claim failed/);
  });

  it("checkShape accepts null as any size", () => {
    checkShape({ shape: [3, 784] }, [null, 784]);
    assert.throws(
      () => checkShape({ shape: [3, 28, 28] }, [null, 784], "images"),
      /checkShape: images must have shape \[any, 784\], got \[3, 28, 28\]/,
    );
  });
});
