import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { loadMnist } from "../lib/src/data/mnist";
import { denseAutoencoder } from "../lib/src/models/dense";
import type { Autoencoder } from "../lib/src/models/dense";
import {
  meanActivations,
  sparseAutoencoder,
  sparseLoss,
  SparsityPenalty,
} from "../lib/src/models/sparse";
import { trainAutoencoder } from "../lib/src/train/fit";
import { assertClose } from "./helpers";

/**
 * Builds a 2-2-2 sparse autoencoder whose kernels are 0, so that every input gives the hidden
 * activations sigmoid([0, ln(1/3)]) = [1/2, 1/4] and the output sigmoid(0) = 1/2.
 */
function constantAutoencoder(): Autoencoder {
  const ae = sparseAutoencoder({ inputDim: 2, hiddenUnits: 2 });
  ae.encoder.setWeights([tf.zeros([2, 2]), tf.tensor1d([0, Math.log(1 / 3)])]);
  ae.decoder.setWeights([tf.zeros([2, 2]), tf.zeros([2])]);
  return ae;
}

function standardDeviation(values: ArrayLike<number>): number {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i] / n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (values[i] - mean) ** 2 / n;
  return Math.sqrt(variance);
}

describe("sparseAutoencoder", () => {
  it("maps [5, 784] to [5, 1000] and back", () => {
    const { encoder, decoder, autoencoder } = sparseAutoencoder({
      inputDim: 784,
      hiddenUnits: 1000,
    });
    assert.deepEqual(encoder.outputs[0].shape, [null, 1000]);
    assert.deepEqual(decoder.outputs[0].shape, [null, 784]);
    assert.deepEqual(autoencoder.outputs[0].shape, [null, 784]);
    // two kernels and two biases
    assert.equal(autoencoder.countParams(), 784 * 1000 + 1000 + 1000 * 784 + 784);
    const activations = autoencoder.layers
      .flatMap((layer) => (layer instanceof tf.LayersModel ? layer.layers : []))
      .map((layer) => layer.getConfig().activation);
    assert.deepEqual(activations, ["sigmoid", "sigmoid"]);
    autoencoder.dispose();
  });

  it("draws initial weights with std initialStd", () => {
    const { encoder, autoencoder } = sparseAutoencoder({
      inputDim: 784,
      hiddenUnits: 100,
      initialStd: 0.02,
      seed: 4,
    });
    const kernel = encoder.getWeights()[0].dataSync();
    // 78,400 draws: the sample std is within 1% of 0.02 with overwhelming probability
    assertClose(standardDeviation(kernel), 0.02, 2e-4, "kernel std");
    autoencoder.dispose();
  });

  it("gives the same weights for the same seed", () => {
    const a = sparseAutoencoder({ inputDim: 20, hiddenUnits: 30, seed: 7 });
    const b = sparseAutoencoder({ inputDim: 20, hiddenUnits: 30, seed: 7 });
    const weights = (ae: Autoencoder) =>
      ae.autoencoder.getWeights().map((w) => Array.from(w.dataSync()));
    assert.deepEqual(weights(a), weights(b));
    a.autoencoder.dispose();
    b.autoencoder.dispose();
  });

  it("throws when options is missing", () => {
    assert.throws(
      () =>
        sparseAutoencoder(null as unknown as { inputDim: number; hiddenUnits: number }),
      /sparseAutoencoder: options must be an object \{ inputDim, hiddenUnits, initialStd\?, seed\? \}, got null/,
    );
  });

  it("throws when inputDim is not an integer", () => {
    assert.throws(
      () => sparseAutoencoder({ inputDim: 78.4, hiddenUnits: 10 }),
      /sparseAutoencoder: inputDim must be an integer, got 78.4/,
    );
  });

  it("throws when hiddenUnits is below 1", () => {
    assert.throws(
      () => sparseAutoencoder({ inputDim: 784, hiddenUnits: 0 }),
      /sparseAutoencoder: hiddenUnits must be an integer >= 1, got 0/,
    );
  });

  it("throws when initialStd is not positive", () => {
    assert.throws(
      () => sparseAutoencoder({ inputDim: 784, hiddenUnits: 10, initialStd: 0 }),
      /sparseAutoencoder: initialStd must be > 0, got 0/,
    );
  });

  it("throws when initialStd is not finite", () => {
    assert.throws(
      () => sparseAutoencoder({ inputDim: 784, hiddenUnits: 10, initialStd: NaN }),
      /sparseAutoencoder: initialStd must be a finite number, got NaN/,
    );
  });

  it("throws when seed is not an integer", () => {
    assert.throws(
      () => sparseAutoencoder({ inputDim: 784, hiddenUnits: 10, seed: 0.5 }),
      /sparseAutoencoder: seed must be an integer, got 0.5/,
    );
  });

  it("throws when the model exceeds 2^28 weights", () => {
    assert.throws(
      () => sparseAutoencoder({ inputDim: 1e6, hiddenUnits: 1e5 }),
      /^AekitError: sparseAutoencoder: the model must have at most 268435456 \(2\^28\) weights and biases, got 200001100000 for inputDim 1000000, hiddenUnits 100000; use smaller layers$/,
    );
  });
});

describe("sparseLoss", () => {
  const x = () =>
    tf.tensor2d([
      [0, 1],
      [0.25, 0.75],
      [1, 1],
    ]);

  it("adds beta times the KL divergence from rho", () => {
    const ae = constantAutoencoder();
    const input = x();
    const terms = sparseLoss(ae, { kind: "kl", rho: 0.1, beta: 3 })(input, input);
    // rhoHat = [1/2, 1/4] for every batch
    const expectedKl =
      0.1 * Math.log(0.1 / 0.5) +
      0.9 * Math.log(0.9 / 0.5) +
      (0.1 * Math.log(0.1 / 0.25) + 0.9 * Math.log(0.9 / 0.75));
    assertClose(terms.sparsity.dataSync()[0], 3 * expectedKl, 1e-5, "sparsity");
    // the output is 1/2 everywhere
    const expectedMse =
      ((0 - 0.5) ** 2 +
        (1 - 0.5) ** 2 +
        (0.25 - 0.5) ** 2 +
        (0.75 - 0.5) ** 2 +
        2 * (1 - 0.5) ** 2) /
      6;
    assertClose(terms.reconstruction.dataSync()[0], expectedMse, 1e-6, "reconstruction");
    tf.dispose([input, terms.sparsity, terms.reconstruction]);
    ae.autoencoder.dispose();
  });

  it("adds lambda times the mean L1 norm of h", () => {
    const ae = constantAutoencoder();
    const input = x();
    const terms = sparseLoss(ae, { kind: "l1", lambda: 0.01 })(input, input);
    assertClose(terms.sparsity.dataSync()[0], 0.01 * (0.5 + 0.25), 1e-6, "sparsity");
    tf.dispose([input, terms.sparsity, terms.reconstruction]);
    ae.autoencoder.dispose();
  });

  it("returns only its two terms as new tensors", () => {
    const ae = sparseAutoencoder({ inputDim: 2, hiddenUnits: 3, seed: 1 });
    const input = x();
    for (const penalty of [
      { kind: "kl", rho: 0.05, beta: 1 },
      { kind: "l1", lambda: 1 },
    ] as SparsityPenalty[]) {
      const loss = sparseLoss(ae, penalty);
      const before = tf.memory().numTensors;
      const terms = loss(input, input);
      assert.deepEqual(Object.keys(terms).sort(), ["reconstruction", "sparsity"]);
      assert.equal(tf.memory().numTensors, before + 2, `${penalty.kind} terms`);
      tf.dispose(Object.values(terms));
      assert.equal(tf.memory().numTensors, before, `${penalty.kind} after dispose`);
    }
    input.dispose();
    ae.autoencoder.dispose();
  });

  it("passes the penalty's gradient to the encoder", () => {
    const ae = sparseAutoencoder({ inputDim: 2, hiddenUnits: 3, seed: 1 });
    const input = x();
    const loss = sparseLoss(ae, { kind: "kl", rho: 0.05, beta: 1 });
    const { grads } = tf.variableGrads(() => loss(input, input).sparsity);
    const encoderBias = ae.encoder.getWeights()[1];
    const biasName = Object.keys(grads).find((name) => name.includes("code/bias"));
    assert.ok(biasName, `no gradient for the code bias among ${Object.keys(grads)}`);
    // every unit fires near 1/2 > rho, so the penalty pushes every bias down
    assert.ok(
      grads[biasName].dataSync().every((g) => g > 0),
      `code bias gradient ${grads[biasName].dataSync()} at bias ${encoderBias.dataSync()}`,
    );
    tf.dispose([input, ...Object.values(grads)]);
    ae.autoencoder.dispose();
  });

  it("moves mean activations toward rho on MNIST", async () => {
    const data = loadMnist({ seed: 0, trainSize: 600, testSize: 300 });
    const rho = 0.05;
    const train = async (penalty?: SparsityPenalty) => {
      const ae = sparseAutoencoder({ inputDim: 784, hiddenUnits: 100, seed: 0 });
      await trainAutoencoder(ae.autoencoder, {
        x: data.train.x,
        epochs: 3,
        batchSize: 20,
        learningRate: 1e-2,
        loss: penalty ? sparseLoss(ae, penalty) : undefined,
      });
      const rhoHat = meanActivations(ae.encoder, data.test.x);
      ae.autoencoder.dispose();
      return rhoHat.reduce((sum, value) => sum + value, 0) / rhoHat.length;
    };
    const before = tf.memory().numTensors;
    const penalized = await train({ kind: "kl", rho, beta: 0.1 });
    const plain = await train();
    assert.equal(tf.memory().numTensors, before, "tensors left after training");
    // measured 0.052 with the penalty and 0.85 without (cpu backend, TensorFlow.js 4.22)
    assert.ok(
      Math.abs(penalized - rho) < 0.01,
      `KL-penalized mean activation ${penalized}`,
    );
    assert.ok(plain - rho > 0.3, `unpenalized mean activation ${plain}`);
    tf.dispose([data.train.x, data.train.y, data.test.x, data.test.y]);
  });

  describe("input checks", () => {
    let ae: Autoencoder;
    before(() => {
      ae = sparseAutoencoder({ inputDim: 4, hiddenUnits: 6 });
    });
    after(() => ae.autoencoder.dispose());

    it("throws when autoencoder is not an Autoencoder", () => {
      assert.throws(
        () =>
          sparseLoss(ae.autoencoder as unknown as Autoencoder, { kind: "l1", lambda: 1 }),
        /sparseLoss: autoencoder must be an Autoencoder \{ encoder, decoder, autoencoder \} from sparseAutoencoder, got an object/,
      );
    });

    it("throws when penalty is missing", () => {
      assert.throws(
        () => sparseLoss(ae, undefined as unknown as SparsityPenalty),
        /sparseLoss: penalty must be \{ kind: 'kl', rho, beta \} or \{ kind: 'l1', lambda \}, got undefined/,
      );
    });

    it("throws when penalty.kind is unknown", () => {
      assert.throws(
        () => sparseLoss(ae, { kind: "l2", lambda: 1 } as unknown as SparsityPenalty),
        /sparseLoss: penalty.kind must be one of 'kl', 'l1', got "l2"/,
      );
    });

    for (const rho of [0, 1, -0.5, 1.5]) {
      it(`throws when rho is ${rho}`, () => {
        assert.throws(
          () => sparseLoss(ae, { kind: "kl", rho, beta: 1 }),
          new RegExp(
            `sparseLoss: penalty.rho must be in the open interval \\(0, 1\\), got ${rho}`,
          ),
        );
      });
    }

    it("throws when rho is not a number", () => {
      assert.throws(
        () => sparseLoss(ae, { kind: "kl", rho: "0.05" as unknown as number, beta: 1 }),
        /sparseLoss: penalty.rho must be a finite number, got "0.05"/,
      );
    });

    it("throws when beta is negative", () => {
      assert.throws(
        () => sparseLoss(ae, { kind: "kl", rho: 0.05, beta: -1 }),
        /sparseLoss: penalty.beta must be >= 0, got -1/,
      );
    });

    it("throws when beta is missing", () => {
      assert.throws(
        () => sparseLoss(ae, { kind: "kl", rho: 0.05 } as SparsityPenalty),
        /sparseLoss: penalty.beta must be a finite number, got undefined/,
      );
    });

    it("throws when lambda is negative", () => {
      assert.throws(
        () => sparseLoss(ae, { kind: "l1", lambda: -0.1 }),
        /sparseLoss: penalty.lambda must be >= 0, got -0.1/,
      );
    });

    it("throws when lambda is not finite", () => {
      assert.throws(
        () => sparseLoss(ae, { kind: "l1", lambda: Infinity }),
        /sparseLoss: penalty.lambda must be a finite number, got Infinity/,
      );
    });

    it("throws when the KL penalty meets a non-sigmoid code", () => {
      const relu = denseAutoencoder({ inputDim: 4, codeSize: 6, activation: "relu" });
      assert.throws(
        () => sparseLoss(relu, { kind: "kl", rho: 0.05, beta: 1 }),
        /sparseLoss: autoencoder.encoder must end in a sigmoid layer for penalty.kind 'kl', got activation 'relu'; build it with sparseAutoencoder/,
      );
      relu.autoencoder.dispose();
    });
  });
});

describe("meanActivations", () => {
  let ae: Autoencoder;
  before(() => {
    ae = sparseAutoencoder({ inputDim: 4, hiddenUnits: 3, initialStd: 1, seed: 2 });
  });
  after(() => ae.autoencoder.dispose());

  it("averages over batches with a remainder", () => {
    const x = tf.randomUniform([7, 4], 0, 1, "float32", 5);
    const expected = tf.tidy(() =>
      (ae.encoder.predict(x) as tf.Tensor).mean(0).dataSync(),
    );
    const before = tf.memory().numTensors;
    const rhoHat = meanActivations(ae.encoder, x, 3);
    assert.equal(tf.memory().numTensors, before, "tensors left");
    assertClose(rhoHat, expected, 1e-6, "rhoHat");
    x.dispose();
  });

  it("throws when encoder is not a model", () => {
    const x = tf.zeros([2, 4]);
    assert.throws(
      () => meanActivations(ae as unknown as tf.LayersModel, x),
      /meanActivations: encoder must be a tf.LayersModel, got an object/,
    );
    x.dispose();
  });

  it("throws when x has the wrong width", () => {
    const x = tf.zeros([2, 5]);
    assert.throws(
      () => meanActivations(ae.encoder, x),
      /meanActivations: x must be a 2-D tensor \[count, 4\] \(the encoder's input size\), got a tensor of shape \[2, 5\]/,
    );
    x.dispose();
  });

  it("throws when x has no rows", () => {
    const x = tf.zeros([0, 4]);
    assert.throws(
      () => meanActivations(ae.encoder, x),
      /meanActivations: x must have at least one row, got a tensor of shape \[0, 4\]/,
    );
    x.dispose();
  });

  it("throws when batchSize is below 1", () => {
    const x = tf.zeros([2, 4]);
    assert.throws(
      () => meanActivations(ae.encoder, x, 0),
      /meanActivations: batchSize must be an integer >= 1, got 0/,
    );
    x.dispose();
  });
});
