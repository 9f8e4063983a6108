import * as tf from "@tensorflow/tfjs";
import { AekitError } from "../core/errors";
import { checkFinite, checkInteger, checkOpenInterval, invalid } from "../core/validate";
import { mse } from "../losses/reconstruction";
import { klSparsityPenalty, l1ActivityPenalty } from "../losses/sparsity";
import type { LossFunction } from "../train/fit";
import { type Autoencoder, checkParameterCount, denseParameterCount } from "./dense";

/** Options of sparseAutoencoder. */
export interface SparseAutoencoderOptions {
  /** Length of an input vector, 784 for 28x28 images. */
  inputDim: number;
  /**
   * Width of the sigmoid hidden layer. A sparsity penalty lets it exceed inputDim
   * (an overcomplete code) without the network learning the identity.
   */
  hiddenUnits: number;
  /**
   * Standard deviation of the normal initial weights of both layers. Default 0.01.
   * Pixels that are 0 in every image (the border of MNIST digits) get no gradient and
   * keep their initial weights, so a small start keeps the learned features visible
   * when the encoder's weights are drawn as images. Glorot uniform at 784 x 1000 gives
   * a standard deviation of about 0.03.
   */
  initialStd?: number;
  /** Seed of the encoder's initial weights. The decoder uses seed + 1. Default 0. */
  seed?: number;
}

/**
 * Builds the sparse autoencoder of notebook 04: inputDim -> hiddenUnits -> inputDim, with
 * a sigmoid on the hidden layer, so that each activation is a firing rate in (0, 1), and
 * a sigmoid on the output, for pixels in [0, 1]. Train it with sparseLoss.
 */
export function sparseAutoencoder(options: SparseAutoencoderOptions): Autoencoder {
  const fn = "sparseAutoencoder";
  if (typeof options !== "object" || options === null) {
    invalid(
      fn,
      "options",
      "be an object { inputDim, hiddenUnits, initialStd?, seed? }",
      options,
    );
  }
  const inputDim = checkInteger(fn, "inputDim", options.inputDim, 1);
  const hiddenUnits = checkInteger(fn, "hiddenUnits", options.hiddenUnits, 1);
  const initialStd = checkFinite(fn, "initialStd", options.initialStd ?? 0.01);
  if (initialStd <= 0) invalid(fn, "initialStd", "be > 0", initialStd);
  const seed = checkInteger(fn, "seed", options.seed ?? 0);
  checkParameterCount(
    fn,
    denseParameterCount([inputDim, hiddenUnits, inputDim]),
    `inputDim ${inputDim}, hiddenUnits ${hiddenUnits}`,
  );

  const dense = (units: number, inputs: number, name: string, layerSeed: number) =>
    tf.layers.dense({
      units,
      inputShape: [inputs],
      activation: "sigmoid",
      name,
      kernelInitializer: tf.initializers.randomNormal({
        mean: 0,
        stddev: initialStd,
        seed: layerSeed,
      }),
    });
  const encoder = tf.sequential({
    name: "encoder",
    layers: [dense(hiddenUnits, inputDim, "code", seed)],
  });
  const decoder = tf.sequential({
    name: "decoder",
    layers: [dense(inputDim, hiddenUnits, "reconstruction", seed + 1)],
  });
  const input = tf.input({ shape: [inputDim], name: "input" });
  const output = decoder.apply(encoder.apply(input)) as tf.SymbolicTensor;
  const autoencoder = tf.model({ inputs: input, outputs: output, name: "autoencoder" });
  return { encoder, decoder, autoencoder };
}

/**
 * The sparsity penalty of sparseLoss:
 * - `kl`: beta * sum_j KL(rho || rhoHat_j), where rhoHat_j is hidden unit j's mean
 *   activation over the batch (klSparsityPenalty). It needs activations in [0, 1].
 * - `l1`: lambda * the batch mean of sum_j |h_j| (l1ActivityPenalty).
 */
export type SparsityPenalty =
  { kind: "kl"; rho: number; beta: number } | { kind: "l1"; lambda: number };

const PENALTY_KINDS = ["kl", "l1"] as const;

function checkAutoencoder(fn: string, autoencoder: unknown): Autoencoder {
  const candidate = autoencoder as Partial<Autoencoder> | null | undefined;
  if (
    !(candidate?.encoder instanceof tf.LayersModel) ||
    !(candidate.decoder instanceof tf.LayersModel)
  ) {
    invalid(
      fn,
      "autoencoder",
      "be an Autoencoder { encoder, decoder, autoencoder } from sparseAutoencoder",
      autoencoder,
    );
  }
  return candidate as Autoencoder;
}

/** Returns the activation name of the encoder's last layer, or 'none' when it has none. */
function codeActivation(encoder: tf.LayersModel): string {
  const last = encoder.layers[encoder.layers.length - 1];
  const activation = last?.getConfig().activation;
  return typeof activation === "string" ? activation : "none";
}

function checkPenalty(fn: string, penalty: unknown): SparsityPenalty {
  if (typeof penalty !== "object" || penalty === null) {
    invalid(
      fn,
      "penalty",
      "be { kind: 'kl', rho, beta } or { kind: 'l1', lambda }",
      penalty,
    );
  }
  const { kind } = penalty as { kind?: unknown };
  if (kind === "kl") {
    const { rho, beta } = penalty as { rho?: unknown; beta?: unknown };
    checkOpenInterval(fn, "penalty.rho", rho, 0, 1);
    if (checkFinite(fn, "penalty.beta", beta) < 0)
      invalid(fn, "penalty.beta", "be >= 0", beta);
  } else if (kind === "l1") {
    const { lambda } = penalty as { lambda?: unknown };
    if (checkFinite(fn, "penalty.lambda", lambda) < 0) {
      invalid(fn, "penalty.lambda", "be >= 0", lambda);
    }
  } else {
    const list = PENALTY_KINDS.map((k) => `'${k}'`).join(", ");
    invalid(fn, "penalty.kind", `be one of ${list}`, kind);
  }
  return penalty as SparsityPenalty;
}

/**
 * Builds the loss of a sparse autoencoder (notebook 04) for trainAutoencoder, as two
 * terms that the training history logs separately:
 * - `reconstruction`: the mean squared error of the decoder's output against the target,
 * - `sparsity`: the weighted penalty on the hidden activations h = encoder(x).
 *
 * The penalty acts on activations, not on weights. The KL penalty compares each unit's
 * mean activation over the batch with rho, so the batch must be large enough for
 * rhoHat_j to estimate the unit's firing rate (notebook 04 uses 64 examples). It
 * requires a sigmoid code layer, because this KL divergence is defined only for rates
 * in [0, 1].
 */
export function sparseLoss(
  autoencoder: Autoencoder,
  penalty: SparsityPenalty,
): LossFunction {
  const fn = "sparseLoss";
  const { encoder, decoder } = checkAutoencoder(fn, autoencoder);
  const checked = checkPenalty(fn, penalty);
  if (checked.kind === "kl" && codeActivation(encoder) !== "sigmoid") {
    throw new AekitError(
      `${fn}: autoencoder.encoder must end in a sigmoid layer for penalty.kind 'kl', ` +
        `got activation '${codeActivation(encoder)}'; build it with sparseAutoencoder`,
    );
  }

  return (x, target) =>
    tf.tidy(() => {
      const h = encoder.apply(x) as tf.Tensor2D;
      const output = decoder.apply(h) as tf.Tensor;
      const reconstruction = mse(target, output);
      const sparsity =
        checked.kind === "kl"
          ? tf.mul(
              checked.beta,
              klSparsityPenalty(checked.rho, tf.mean(h, 0) as tf.Tensor1D),
            )
          : tf.mul(checked.lambda, l1ActivityPenalty(h));
      return { reconstruction, sparsity: sparsity as tf.Scalar };
    });
}

/**
 * Computes rhoHat, the mean activation of each code unit over all rows of x
 * [count, inputDim], in batches of batchSize rows so that large sets fit in memory.
 * Returns a number[] [units] and releases every intermediate tensor.
 */
export function meanActivations(
  encoder: tf.LayersModel,
  x: tf.Tensor,
  batchSize = 1000,
): number[] {
  const fn = "meanActivations";
  if (!(encoder instanceof tf.LayersModel)) {
    invalid(fn, "encoder", "be a tf.LayersModel", encoder);
  }
  const inputDim = encoder.inputs[0].shape[1];
  if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[1] !== inputDim) {
    invalid(
      fn,
      "x",
      `be a 2-D tensor [count, ${inputDim}] (the encoder's input size)`,
      x,
    );
  }
  if (x.shape[0] === 0) invalid(fn, "x", "have at least one row", x);
  checkInteger(fn, "batchSize", batchSize, 1);

  const count = x.shape[0];
  let sums: tf.Tensor1D | undefined;
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const next = tf.tidy(() => {
      const h = encoder.predict(x.slice(start, size)) as tf.Tensor2D;
      const batchSum = tf.sum(h, 0) as tf.Tensor1D;
      return (sums ? tf.add(sums, batchSum) : batchSum) as tf.Tensor1D;
    });
    sums?.dispose();
    sums = next;
  }
  // x has at least one row, so the loop ran and sums is set
  const totals = (sums as tf.Tensor1D).dataSync();
  sums?.dispose();
  return Array.from(totals, (total) => total / count);
}
