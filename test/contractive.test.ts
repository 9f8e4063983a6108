import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { gaussianNoise } from "../lib/src/data/corruptions";
import { loadMnist } from "../lib/src/data/mnist";
import {
  codeDisplacement,
  contractiveLoss,
  squaredJacobianNorm,
} from "../lib/src/models/contractive";
import { Autoencoder, denseAutoencoder } from "../lib/src/models/dense";
import { trainAutoencoder } from "../lib/src/train/fit";
import { FLOAT32_TOLERANCE, assertClose } from "./helpers";

/** Builds a 2-input, 1-unit sigmoid autoencoder with kernel [[1], [2]] and zero biases. */
function tinySigmoidAutoencoder(): Autoencoder {
  const ae = denseAutoencoder({
    inputDim: 2,
    codeSize: 1,
    activation: "sigmoid",
    outputActivation: "linear",
  });
  ae.encoder.layers[1].setWeights([tf.tensor2d([[1], [2]]), tf.zeros([1])]);
  ae.decoder.layers[1].setWeights([tf.tensor2d([[1, 1]]), tf.zeros([2])]);
  return ae;
}

/** Reads a scalar loss term and disposes it. */
function read(term: tf.Scalar): number {
  const value = term.dataSync()[0];
  term.dispose();
  return value;
}

describe("contractiveLoss", () => {
  it("returns the reconstruction and the weighted penalty", () => {
    const ae = tinySigmoidAutoencoder();
    const x = tf.tensor2d([[0, 0]]);
    const terms = contractiveLoss(ae, 0.1)(x, x);
    assert.deepEqual(Object.keys(terms), ["reconstruction", "contractive"]);
    // h = sigmoid(0) = 0.5, so the output is (0.5, 0.5) and the MSE against (0, 0) is 0.25
    assertClose(read(terms.reconstruction), 0.25);
    // (h (1 - h))^2 (1^2 + 2^2) = 0.0625 * 5 = 0.3125, times lambda = 0.1
    assertClose(read(terms.contractive), 0.1 * 0.3125);
    x.dispose();
    ae.autoencoder.dispose();
  });

  it("gives a zero penalty for lambda 0", () => {
    const ae = tinySigmoidAutoencoder();
    const x = tf.tensor2d([[1, -1]]);
    const terms = contractiveLoss(ae, 0)(x, x);
    assert.equal(read(terms.contractive), 0);
    read(terms.reconstruction);
    x.dispose();
    ae.autoencoder.dispose();
  });

  it("sends gradients into the encoder's kernel", () => {
    const ae = tinySigmoidAutoencoder();
    const x = tf.tensor2d([[0, 0]]);
    const loss = contractiveLoss(ae, 1);
    const kernel = ae.encoder.layers[1].trainableWeights[0].read() as tf.Variable;
    // At x = 0, h = 0.5 whatever W is, so the penalty is 0.0625 * (W1^2 + W2^2) and
    // its gradient 0.125 * W = [0.125, 0.25]
    const { grads } = tf.variableGrads(() => loss(x, x).contractive, [kernel]);
    assertClose(grads[kernel.name].dataSync(), [0.125, 0.25]);
    tf.dispose(grads);
    x.dispose();
    ae.autoencoder.dispose();
  });

  it("leaks no tensors inside tf.tidy", () => {
    const ae = tinySigmoidAutoencoder();
    const x = tf.tensor2d([[0.3, 0.7]]);
    const loss = contractiveLoss(ae, 0.5);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      loss(x, x);
    });
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
    ae.autoencoder.dispose();
  });

  it("lowers both terms in a short training run", async () => {
    const data = loadMnist({ seed: 0, trainSize: 512, testSize: 64 });
    const ae = denseAutoencoder({
      inputDim: 784,
      codeSize: 16,
      activation: "sigmoid",
      seed: 0,
    });
    const history = await trainAutoencoder(ae.autoencoder, {
      x: data.train.x,
      epochs: 4,
      batchSize: 64,
      learningRate: 1e-2,
      loss: contractiveLoss(ae, 0.05),
    });
    const { reconstruction, contractive } = history.terms;
    assert.equal(reconstruction.length, 4);
    assert.ok(reconstruction[3] < reconstruction[0], `${reconstruction}`);
    assert.ok(contractive[3] < contractive[0], `${contractive}`);
    tf.dispose([data.train.x, data.train.y, data.test.x, data.test.y]);
    ae.autoencoder.dispose();
  });

  it("throws when the encoder has a hidden layer", () => {
    const ae = denseAutoencoder({ inputDim: 4, codeSize: 2, hiddenUnits: [3] });
    assert.throws(
      () => contractiveLoss(ae, 0.1),
      /contractiveLoss: autoencoder\.encoder must be one Dense layer with a sigmoid activation and a bias, got 2 layer\(s\) \(Dense 'relu', Dense 'relu'\)/,
    );
    ae.autoencoder.dispose();
  });

  it("throws when the code activation is not sigmoid", () => {
    const ae = denseAutoencoder({ inputDim: 4, codeSize: 2, activation: "tanh" });
    assert.throws(
      () => contractiveLoss(ae, 0.1),
      /contractiveLoss: autoencoder\.encoder must be one Dense layer with a sigmoid activation and a bias, got 1 layer\(s\) \(Dense 'tanh'\)/,
    );
    ae.autoencoder.dispose();
  });

  it("throws when lambda is negative", () => {
    const ae = tinySigmoidAutoencoder();
    assert.throws(
      () => contractiveLoss(ae, -1),
      /contractiveLoss: lambda must be >= 0, got -1/,
    );
    ae.autoencoder.dispose();
  });

  it("throws when lambda is not a number", () => {
    const ae = tinySigmoidAutoencoder();
    assert.throws(
      () => contractiveLoss(ae, NaN),
      /contractiveLoss: lambda must be a finite number, got NaN/,
    );
    ae.autoencoder.dispose();
  });

  it("throws when given a model in place of an Autoencoder", () => {
    const { autoencoder } = tinySigmoidAutoencoder();
    assert.throws(
      () => contractiveLoss(autoencoder as unknown as Autoencoder, 0.1),
      /contractiveLoss: autoencoder must be an Autoencoder from denseAutoencoder, got an object \(Object\)/,
    );
    autoencoder.dispose();
  });
});

describe("squaredJacobianNorm", () => {
  it("matches the hand value of a one-unit sigmoid encoder", () => {
    const ae = tinySigmoidAutoencoder();
    // x = (0, 0): h = 0.5, so 0.25^2 * (1 + 4) = 0.3125; x = (1, 0): h = sigmoid(1)
    const x = tf.tensor2d([
      [0, 0],
      [1, 0],
    ]);
    const h = 1 / (1 + Math.exp(-1));
    const norms = squaredJacobianNorm(ae.encoder, x);
    assert.deepEqual(norms.shape, [2]);
    assertClose(norms.dataSync(), [0.3125, (h * (1 - h)) ** 2 * 5]);
    tf.dispose([x, norms]);
    ae.autoencoder.dispose();
  });

  it("matches the chain rule for a two-layer tanh encoder", () => {
    const { encoder, autoencoder } = denseAutoencoder({
      inputDim: 3,
      codeSize: 2,
      hiddenUnits: [4],
      activation: "tanh",
      seed: 5,
    });
    const rows = [
      [0.2, -0.4, 0.9],
      [1, 0.5, -0.3],
    ];
    const [kernel1, bias1] = encoder.layers[1].getWeights();
    const [kernel2, bias2] = encoder.layers[2].getWeights();
    const W1 = kernel1.arraySync() as number[][];
    const W2 = kernel2.arraySync() as number[][];
    const dense = (W: number[][], b: number[], input: number[]) =>
      b.map((bias, j) => Math.tanh(bias + input.reduce((s, v, i) => s + v * W[i][j], 0)));
    // J = diag(1 - h2^2) W2^T diag(1 - h1^2) W1^T, written out entry by entry
    const expected = rows.map((x) => {
      const h1 = dense(W1, bias1.arraySync() as number[], x);
      const h2 = dense(W2, bias2.arraySync() as number[], h1);
      let sum = 0;
      for (let j = 0; j < 2; j++) {
        for (let i = 0; i < 3; i++) {
          let entry = 0;
          for (let k = 0; k < 4; k++) entry += W2[k][j] * (1 - h1[k] ** 2) * W1[i][k];
          sum += ((1 - h2[j] ** 2) * entry) ** 2;
        }
      }
      return sum;
    });
    const x = tf.tensor2d(rows);
    const norms = squaredJacobianNorm(encoder, x);
    assertClose(norms.dataSync(), expected, FLOAT32_TOLERANCE, "squared norm");
    tf.dispose([x, norms]);
    autoencoder.dispose();
  });

  it("leaks no tensors besides its result", () => {
    const ae = tinySigmoidAutoencoder();
    const x = tf.tensor2d([[0.1, 0.2]]);
    const before = tf.memory().numTensors;
    const norms = squaredJacobianNorm(ae.encoder, x);
    assert.equal(tf.memory().numTensors, before + 1);
    tf.dispose([x, norms]);
    ae.autoencoder.dispose();
  });

  it("throws when x has the wrong width", () => {
    const ae = tinySigmoidAutoencoder();
    const x = tf.zeros([3, 5]);
    assert.throws(
      () => squaredJacobianNorm(ae.encoder, x),
      /squaredJacobianNorm: x must be a 2-D tensor \[batch, 2\] \(the encoder's input size\), got a tensor of shape \[3, 5\]/,
    );
    x.dispose();
    ae.autoencoder.dispose();
  });

  it("throws when the encoder is not a LayersModel", () => {
    const x = tf.zeros([1, 2]);
    assert.throws(
      () => squaredJacobianNorm(null as unknown as tf.LayersModel, x),
      /squaredJacobianNorm: encoder must be a tf\.LayersModel, got null/,
    );
    x.dispose();
  });

  it("throws when the code is not a matrix", () => {
    const encoder = tf.sequential({
      layers: [
        tf.layers.dense({ units: 4, inputShape: [2] }),
        tf.layers.reshape({ targetShape: [2, 2] }),
      ],
    });
    const x = tf.zeros([1, 2]);
    assert.throws(
      () => squaredJacobianNorm(encoder, x),
      /squaredJacobianNorm: encoder must output \[batch, code\], got \[batch, 2, 2\]/,
    );
    x.dispose();
    encoder.dispose();
  });
});

describe("codeDisplacement", () => {
  it("measures |2 e| for the linear code h = 2 x", () => {
    const encoder = tf.sequential({
      layers: [tf.layers.dense({ units: 1, inputShape: [1], useBias: false })],
    });
    encoder.layers[0].setWeights([tf.tensor2d([[2]])]);
    const x = tf.tensor2d([[0.1], [0.5], [0.9]]);
    const moved = gaussianNoise(x, { std: 0.01, seed: 4 });
    const e = moved.sub(x).dataSync();
    const expected = (2 * (Math.abs(e[0]) + Math.abs(e[1]) + Math.abs(e[2]))) / 3;
    const measured = codeDisplacement(encoder, x, { noiseStd: 0.01, seed: 4 });
    assertClose(measured, expected, 1e-4);
    tf.dispose([x, moved]);
    encoder.dispose();
  });

  it("is zero for a constant code", () => {
    const ae = tinySigmoidAutoencoder();
    ae.encoder.layers[1].setWeights([tf.zeros([2, 1]), tf.ones([1])]);
    const x = tf.tensor2d([[0.3, 0.6]]);
    assert.equal(codeDisplacement(ae.encoder, x, { noiseStd: 0.1 }), 0);
    x.dispose();
    ae.autoencoder.dispose();
  });

  it("repeats for the same seed and changes with it", () => {
    const ae = tinySigmoidAutoencoder();
    const x = tf.tensor2d([
      [0.3, 0.6],
      [0.9, 0.1],
    ]);
    const first = codeDisplacement(ae.encoder, x, { noiseStd: 0.1, seed: 1 });
    const again = codeDisplacement(ae.encoder, x, { noiseStd: 0.1, seed: 1 });
    const other = codeDisplacement(ae.encoder, x, { noiseStd: 0.1, seed: 2 });
    assert.equal(first, again);
    assert.notEqual(first, other);
    x.dispose();
    ae.autoencoder.dispose();
  });

  it("leaks no tensors", () => {
    const ae = tinySigmoidAutoencoder();
    const x = tf.tensor2d([[0.3, 0.6]]);
    const before = tf.memory().numTensors;
    codeDisplacement(ae.encoder, x, { noiseStd: 0.1 });
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
    ae.autoencoder.dispose();
  });

  it("throws when noiseStd is not positive", () => {
    const ae = tinySigmoidAutoencoder();
    const x = tf.zeros([1, 2]);
    assert.throws(
      () => codeDisplacement(ae.encoder, x, { noiseStd: 0 }),
      /codeDisplacement: noiseStd must be > 0, got 0/,
    );
    x.dispose();
    ae.autoencoder.dispose();
  });

  it("throws when noiseStd is missing", () => {
    const ae = tinySigmoidAutoencoder();
    const x = tf.zeros([1, 2]);
    assert.throws(
      () => codeDisplacement(ae.encoder, x, {} as never),
      /codeDisplacement: noiseStd must be a finite number, got undefined/,
    );
    x.dispose();
    ae.autoencoder.dispose();
  });

  it("throws when the seed is not an integer", () => {
    const ae = tinySigmoidAutoencoder();
    const x = tf.zeros([1, 2]);
    assert.throws(
      () => codeDisplacement(ae.encoder, x, { noiseStd: 0.1, seed: 1.5 }),
      /codeDisplacement: seed must be an integer, got 1.5/,
    );
    x.dispose();
    ae.autoencoder.dispose();
  });

  it("throws when x has the wrong width", () => {
    const ae = tinySigmoidAutoencoder();
    const x = tf.zeros([4]);
    assert.throws(
      () => codeDisplacement(ae.encoder, x, { noiseStd: 0.1 }),
      /codeDisplacement: x must be a 2-D tensor \[batch, 2\] \(the encoder's input size\), got a tensor of shape \[4\]/,
    );
    x.dispose();
    ae.autoencoder.dispose();
  });
});
