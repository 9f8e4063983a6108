// Runs every training loop and every penalty of the kit many times and checks that the
// tensor count returns to where it started. A helper that keeps an intermediate tensor
// would fail here before a long notebook runs out of memory.
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { corruptionTransform } from "../lib/src/models/denoising";
import { contractiveLoss, squaredJacobianNorm } from "../lib/src/models/contractive";
import { convAutoencoder } from "../lib/src/models/conv";
import { denseAutoencoder } from "../lib/src/models/dense";
import { pretrainLayerwise } from "../lib/src/models/layerwise";
import { meanActivations, sparseAutoencoder, sparseLoss } from "../lib/src/models/sparse";
import { contractivePenalty } from "../lib/src/losses/contractive";
import { mse, psnr } from "../lib/src/losses/reconstruction";
import { klSparsityPenalty, l1ActivityPenalty } from "../lib/src/losses/sparsity";
import {
  gaussianNoise,
  maskingNoise,
  saltAndPepperNoise,
} from "../lib/src/data/corruptions";
import { evaluateLoss, trainAutoencoder } from "../lib/src/train/fit";

const PENALTY_REPEATS = 50;
const TRAINING_REPEATS = 3;

/** Runs `body` `times` times and asserts that the tensor count ends where it started. */
async function assertNoGrowth(
  label: string,
  times: number,
  body: () => unknown,
): Promise<void> {
  const before = tf.memory().numTensors;
  for (let i = 0; i < times; i++) await body();
  assert.equal(
    tf.memory().numTensors,
    before,
    `${label}: tensors left after ${times} runs`,
  );
}

describe("tensor count after repeated calls", function () {
  this.timeout(120_000);
  let x: tf.Tensor2D;
  before(() => {
    x = tf.randomUniform([32, 16], 0, 1, "float32", 5);
  });
  after(() => x.dispose());

  it("returns to its start after each penalty and loss", async () => {
    const W = tf.randomNormal([16, 8], 0, 0.1, "float32", 1) as tf.Tensor2D;
    const b = tf.zeros([8]) as tf.Tensor1D;
    const rhoHat = tf.tensor1d([0, 0.05, 0.5, 1]);
    const half = x.mul(0.5);
    const dense = denseAutoencoder({
      inputDim: 16,
      codeSize: 4,
      codeActivation: "sigmoid",
      seed: 0,
    });
    const sparse = sparseAutoencoder({ inputDim: 16, hiddenUnits: 24, seed: 0 });

    const penalties: [string, () => tf.Tensor | Record<string, tf.Tensor>][] = [
      ["klSparsityPenalty", () => klSparsityPenalty(0.05, rhoHat)],
      ["l1ActivityPenalty", () => l1ActivityPenalty(x)],
      ["contractivePenalty", () => contractivePenalty(W, b, x)],
      ["mse", () => mse(x, half)],
      [
        "sparseLoss kl",
        () => sparseLoss(sparse, { kind: "kl", rho: 0.05, beta: 1 })(x, x),
      ],
      ["sparseLoss l1", () => sparseLoss(sparse, { kind: "l1", lambda: 0.01 })(x, x)],
      // A LossFunction runs inside the optimizer's tidy during training, so here too.
      ["contractiveLoss", () => tf.tidy(() => contractiveLoss(dense, 0.1)(x, x))],
      ["squaredJacobianNorm", () => squaredJacobianNorm(dense.encoder, x)],
      ["meanActivations", () => tf.tensor(meanActivations(sparse.encoder, x, 8))],
      ["gaussianNoise", () => gaussianNoise(x, { std: 0.2, seed: 1 })],
      ["maskingNoise", () => maskingNoise(x, { fraction: 0.3, seed: 1 })],
      ["saltAndPepperNoise", () => saltAndPepperNoise(x, { fraction: 0.3, seed: 1 })],
      [
        "corruptionTransform",
        () => corruptionTransform({ kind: "masking", level: 0.3, seed: 1 })(x, 2),
      ],
    ];

    for (const [label, run] of penalties) {
      await assertNoGrowth(label, PENALTY_REPEATS, () => tf.dispose(run()));
    }
    await assertNoGrowth("psnr", PENALTY_REPEATS, () => psnr(x, half));
    await assertNoGrowth("evaluateLoss", PENALTY_REPEATS, () =>
      evaluateLoss(contractiveLoss(dense, 0.1), x, x, 8),
    );
    tf.dispose([W, b, rhoHat, half]);
    dense.autoencoder.dispose();
    sparse.autoencoder.dispose();
  });

  it("returns to its start after each training loop", async () => {
    const quiet = { epochs: 2, batchSize: 8, verbose: false } as const;
    const loops: [string, () => Promise<void>][] = [
      [
        "dense",
        async () => {
          const ae = denseAutoencoder({ inputDim: 16, codeSize: 4, seed: 0 });
          await trainAutoencoder(ae.autoencoder, { x, ...quiet, validation: { x } });
          ae.autoencoder.dispose();
        },
      ],
      [
        "sparse",
        async () => {
          const ae = sparseAutoencoder({ inputDim: 16, hiddenUnits: 24, seed: 0 });
          const loss = sparseLoss(ae, { kind: "kl", rho: 0.05, beta: 1 });
          await trainAutoencoder(ae.autoencoder, { x, loss, ...quiet });
          ae.autoencoder.dispose();
        },
      ],
      [
        "contractive",
        async () => {
          const ae = denseAutoencoder({
            inputDim: 16,
            codeSize: 4,
            codeActivation: "sigmoid",
            seed: 0,
          });
          await trainAutoencoder(ae.autoencoder, {
            x,
            loss: contractiveLoss(ae, 0.1),
            ...quiet,
          });
          ae.autoencoder.dispose();
        },
      ],
      [
        "denoising",
        async () => {
          const ae = denseAutoencoder({ inputDim: 16, codeSize: 4, seed: 0 });
          const transformInput = corruptionTransform({
            kind: "gaussian",
            level: 0.2,
            seed: 0,
          });
          await trainAutoencoder(ae.autoencoder, { x, transformInput, ...quiet });
          ae.autoencoder.dispose();
        },
      ],
      [
        "layerwise",
        async () => {
          const ae = denseAutoencoder({
            inputDim: 16,
            hiddenUnits: [8],
            codeSize: 4,
            seed: 0,
          });
          const stages = await pretrainLayerwise(ae, { x, epochs: 1, batchSize: 8 });
          assert.equal(stages.length, 2);
          ae.autoencoder.dispose();
        },
      ],
      [
        "convolutional",
        async () => {
          const ae = convAutoencoder({ imageShape: [8, 8, 1], filters: [2], seed: 0 });
          const images = x.reshape([8, 64]);
          await trainAutoencoder(ae.autoencoder, { x: images, ...quiet });
          images.dispose();
          ae.autoencoder.dispose();
        },
      ],
    ];
    for (const [label, run] of loops) {
      await assertNoGrowth(label, TRAINING_REPEATS, run);
    }
  });
});
