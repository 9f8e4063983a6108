import * as tf from "@tensorflow/tfjs";
import { AekitError } from "../core/errors";
import { checkInteger, checkObject, checkOneOf, invalid } from "../core/validate";

/** Activations the builders accept, by their TensorFlow.js names. */
export const ACTIVATIONS = ["relu", "sigmoid", "tanh", "linear", "elu", "selu"] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** An autoencoder as three models that share weights. */
export interface Autoencoder {
  /** Maps an input [batch, inputDim] to its code [batch, codeSize]. */
  encoder: tf.LayersModel;
  /** Maps a code [batch, codeSize] back to a reconstruction [batch, inputDim]. */
  decoder: tf.LayersModel;
  /** The decoder applied to the encoder, input to reconstruction. */
  autoencoder: tf.LayersModel;
}

/**
 * The maximum number of weights and biases the model builders create, 2^28. That is
 * 1 GiB of float32 values, and Adam keeps two more values per weight during training.
 */
export const MAX_PARAMETERS = 2 ** 28;

/** Counts the weights and biases of a chain of dense layers with the given widths. */
export function denseParameterCount(widths: readonly number[]): number {
  let count = 0;
  for (let i = 1; i < widths.length; i++) count += widths[i - 1] * widths[i] + widths[i];
  return count;
}

/**
 * Checks a model's parameter count against MAX_PARAMETERS before TensorFlow.js
 * allocates it. `layout` names the options that set the count, for the error.
 */
export function checkParameterCount(fn: string, count: number, layout: string): void {
  // larger weight arrays fail inside TensorFlow.js with a raw RangeError, or exhaust memory
  if (count > MAX_PARAMETERS) {
    throw new AekitError(
      `${fn}: the model must have at most ${MAX_PARAMETERS} (2^28) weights and biases, ` +
        `got ${count} for ${layout}; use smaller layers`,
    );
  }
}

/** Options of denseAutoencoder. */
export interface DenseAutoencoderOptions {
  /** Length of an input vector, 784 for 28x28 images. */
  inputDim: number;
  /** Size of the code (the bottleneck). */
  codeSize: number;
  /** Widths of the encoder's hidden layers, input side first; the decoder mirrors them. Default []. */
  hiddenUnits?: readonly number[];
  /** Activation of the hidden layers. Default 'relu'. */
  activation?: Activation;
  /** Activation of the code layer. Default: the hidden activation. */
  codeActivation?: Activation;
  /** Activation of the output layer; 'sigmoid' suits pixels in [0, 1]. Default 'sigmoid'. */
  outputActivation?: Activation;
  /** Seed of the initial weights (Glorot uniform); layer i uses seed + i. Default 0. */
  seed?: number;
}

/**
 * Builds a fully connected autoencoder inputDim -> hiddenUnits -> codeSize -> reversed
 * hiddenUnits -> inputDim, with seeded initial weights.
 */
export function denseAutoencoder(options: DenseAutoencoderOptions): Autoencoder {
  const fn = "denseAutoencoder";
  checkObject(fn, "options", options, "{ inputDim: 784, codeSize: 32 }");
  const inputDim = checkInteger(fn, "inputDim", options.inputDim, 1);
  const codeSize = checkInteger(fn, "codeSize", options.codeSize, 1);
  const hiddenUnits = options.hiddenUnits ?? [];
  if (!Array.isArray(hiddenUnits))
    invalid(fn, "hiddenUnits", "be an array of integers", hiddenUnits);
  hiddenUnits.forEach((units, i) => checkInteger(fn, `hiddenUnits[${i}]`, units, 1));
  const activation = checkOneOf(
    fn,
    "activation",
    options.activation ?? "relu",
    ACTIVATIONS,
  );
  const codeActivation = checkOneOf(
    fn,
    "codeActivation",
    options.codeActivation ?? activation,
    ACTIVATIONS,
  );
  const outputActivation = checkOneOf(
    fn,
    "outputActivation",
    options.outputActivation ?? "sigmoid",
    ACTIVATIONS,
  );
  const seed = checkInteger(fn, "seed", options.seed ?? 0);
  const widths = [inputDim, ...hiddenUnits, codeSize];
  checkParameterCount(
    fn,
    denseParameterCount(widths) + denseParameterCount([...widths].reverse()),
    `inputDim ${inputDim}, hiddenUnits [${hiddenUnits.join(", ")}], codeSize ${codeSize}`,
  );

  let layerIndex = 0;
  const dense = (units: number, act: Activation, name: string) =>
    tf.layers.dense({
      units,
      activation: act,
      name,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + layerIndex++ }),
    });

  const encoder = tf.sequential({ name: "encoder" });
  encoder.add(tf.layers.inputLayer({ inputShape: [inputDim] }));
  hiddenUnits.forEach((units, i) =>
    encoder.add(dense(units, activation, `encoder_hidden_${i + 1}`)),
  );
  encoder.add(dense(codeSize, codeActivation, "code"));

  const decoder = tf.sequential({ name: "decoder" });
  decoder.add(tf.layers.inputLayer({ inputShape: [codeSize] }));
  [...hiddenUnits]
    .reverse()
    .forEach((units, i) =>
      decoder.add(dense(units, activation, `decoder_hidden_${i + 1}`)),
    );
  decoder.add(dense(inputDim, outputActivation, "reconstruction"));

  const input = tf.input({ shape: [inputDim], name: "input" });
  const output = decoder.apply(encoder.apply(input)) as tf.SymbolicTensor;
  const autoencoder = tf.model({ inputs: input, outputs: output, name: "autoencoder" });
  return { encoder, decoder, autoencoder };
}
