import * as tf from "@tensorflow/tfjs";
import { AekitError } from "../core/errors";
import { checkFinite, checkInteger, invalid } from "../core/validate";
import { gaussianNoise } from "../data/corruptions";
import { contractivePenalty } from "../losses/contractive";
import type { LossFunction } from "../train/fit";
import type { Autoencoder } from "./dense";

/**
 * Returns the kernel and bias variables of an encoder that is a single dense layer with
 * a sigmoid activation, the case the closed-form penalty covers.
 */
function sigmoidEncoderWeights(
  fn: string,
  encoder: tf.LayersModel,
): { kernel: tf.LayerVariable; bias: tf.LayerVariable } {
  const layers = encoder.layers.filter((layer) => layer.getClassName() !== "InputLayer");
  const described = layers
    .map((layer) => `${layer.getClassName()} '${layer.getConfig().activation ?? "none"}'`)
    .join(", ");
  const [layer] = layers;
  const weights = layer?.trainableWeights ?? [];
  if (
    layers.length !== 1 ||
    layer.getClassName() !== "Dense" ||
    layer.getConfig().activation !== "sigmoid" ||
    weights.length !== 2
  ) {
    throw new AekitError(
      `${fn}: autoencoder.encoder must be one Dense layer with a sigmoid activation and ` +
        `a bias, got ${layers.length} layer(s)${described ? ` (${described})` : ""}. ` +
        `Build it with denseAutoencoder({ hiddenUnits: [], codeActivation: "sigmoid" })`,
    );
  }
  return { kernel: weights[0], bias: weights[1] };
}

/**
 * Builds the loss of a contractive autoencoder (notebook 06) for trainAutoencoder:
 * `reconstruction`, the mean squared error of the autoencoder's output, and
 * `contractive`, lambda times the squared Frobenius norm of the encoder's Jacobian
 * averaged over the batch (contractivePenalty). The encoder must be one dense sigmoid
 * layer. The terms read the layer's variables, so Adam's gradients flow into them.
 */
export function contractiveLoss(autoencoder: Autoencoder, lambda: number): LossFunction {
  const fn = "contractiveLoss";
  if (!(autoencoder?.autoencoder instanceof tf.LayersModel)) {
    invalid(fn, "autoencoder", "be an Autoencoder from denseAutoencoder", autoencoder);
  }
  checkFinite(fn, "lambda", lambda);
  if (lambda < 0) invalid(fn, "lambda", "be >= 0", lambda);
  const { kernel, bias } = sigmoidEncoderWeights(fn, autoencoder.encoder);

  return (x, target) => {
    const output = autoencoder.autoencoder.apply(x) as tf.Tensor;
    const reconstruction = tf.losses.meanSquaredError(target, output) as tf.Scalar;
    const penalty = contractivePenalty(
      kernel.read() as tf.Tensor2D,
      bias.read() as tf.Tensor1D,
      x as tf.Tensor2D,
    );
    return { reconstruction, contractive: tf.mul(penalty, lambda) as tf.Scalar };
  };
}

function checkEncoderInput(fn: string, encoder: tf.LayersModel, x: tf.Tensor): void {
  if (!(encoder instanceof tf.LayersModel)) {
    invalid(fn, "encoder", "be a tf.LayersModel", encoder);
  }
  const inputs = encoder.inputs[0].shape[1];
  if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[1] !== inputs) {
    invalid(fn, "x", `be a 2-D tensor [batch, ${inputs}] (the encoder's input size)`, x);
  }
  if (encoder.outputs[0].shape.length !== 2) {
    const shape = `[${encoder.outputs[0].shape.map((d) => d ?? "batch").join(", ")}]`;
    throw new AekitError(`${fn}: encoder must output [batch, code], got ${shape}`);
  }
}

/**
 * Computes the squared Frobenius norm of the encoder's Jacobian, ||J_f(x_i)||_F^2 =
 * sum_j sum_i (dh_j / dx_i)^2, for each row x_i of x [batch, inputs], by automatic
 * differentiation: one gradient of sum_rows h_j per code unit j. Rows do not interact
 * in a dense encoder, so that gradient's row i is row i's Jacobian row j. Works for any
 * encoder (notebook 06 checks the closed form of contractivePenalty against it).
 * Returns a tensor [batch] that the caller disposes.
 */
export function squaredJacobianNorm(encoder: tf.LayersModel, x: tf.Tensor): tf.Tensor1D {
  const fn = "squaredJacobianNorm";
  checkEncoderInput(fn, encoder, x);
  const codeSize = encoder.outputs[0].shape[1] as number;

  let total: tf.Tensor1D = tf.zeros([x.shape[0]]);
  for (let unit = 0; unit < codeSize; unit++) {
    const next = tf.tidy(() => {
      const codeUnitSum = (input: tf.Tensor) =>
        (encoder.apply(input) as tf.Tensor).slice([0, unit], [-1, 1]).sum();
      const gradient = tf.grad(codeUnitSum)(x);
      return total.add(gradient.square().sum(1)) as tf.Tensor1D;
    });
    total.dispose();
    total = next;
  }
  return total;
}

/** Options of codeDisplacement. */
export interface CodeDisplacementOptions {
  /** Standard deviation of the Gaussian perturbation added to every input value. */
  noiseStd: number;
  /** Seed of the perturbation. Default 0. */
  seed?: number;
}

/**
 * Measures how far the code moves when the input moves a little: the mean over rows of
 * ||f(x + e) - f(x)||_2, with e drawn from N(0, noiseStd^2) per value by gaussianNoise
 * (seeded, and not clipped, so it probes the encoder rather than a valid image).
 * Notebook 06 compares it between a contractive and a plain autoencoder.
 */
export function codeDisplacement(
  encoder: tf.LayersModel,
  x: tf.Tensor,
  options: CodeDisplacementOptions,
): number {
  const fn = "codeDisplacement";
  checkEncoderInput(fn, encoder, x);
  const noiseStd = checkFinite(fn, "noiseStd", options?.noiseStd);
  if (noiseStd <= 0) invalid(fn, "noiseStd", "be > 0", noiseStd);
  const seed = checkInteger(fn, "seed", options.seed ?? 0);

  return tf.tidy(() => {
    const code = encoder.predict(x) as tf.Tensor;
    const moved = encoder.predict(gaussianNoise(x, { std: noiseStd, seed })) as tf.Tensor;
    return moved.sub(code).square().sum(1).sqrt().mean().dataSync()[0];
  });
}
