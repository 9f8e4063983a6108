import * as tf from "@tensorflow/tfjs";
import { AekitError } from "../core/errors";
import { checkFinite, checkInteger, invalid } from "../core/validate";
import { trainAutoencoder } from "../train/fit";
import type { EpochLogs, History } from "../train/fit";
import type { Autoencoder } from "./dense";

/** One stage of greedy layer-wise pretraining: a shallow autoencoder inputSize -> codeSize -> inputSize. */
export interface PretrainingStage {
  /** Stage number, from 0. Stage i trains encoder layer i and the mirrored decoder layer. */
  index: number;
  /** Number of stages, one per dense layer of the encoder. */
  stages: number;
  /** Width of the stage's input: 784 for the first stage, then the previous stage's code. */
  inputSize: number;
  /** Width of the stage's code, the units of encoder layer i. */
  codeSize: number;
  /** Name of the deep encoder layer that receives the stage's first layer. */
  encoderLayer: string;
  /** Name of the mirrored deep decoder layer that receives the stage's second layer. */
  decoderLayer: string;
}

/** A finished stage with its training history. */
export interface PretrainingResult extends PretrainingStage {
  history: History;
}

/** An onEpochEnd callback of trainAutoencoder. */
export type EpochCallback = (logs: EpochLogs) => void | Promise<void>;

/** Options of pretrainLayerwise. */
export interface LayerwiseOptions {
  /** Training inputs, [count, inputDim] with the deep encoder's inputDim. */
  x: tf.Tensor;
  /** Epochs of each stage, as one number for all stages or one number per stage. Default 5. */
  epochs?: number | readonly number[];
  /** Examples per gradient step. Default 128. */
  batchSize?: number;
  /** Learning rate of each stage's Adam optimizer. Default 1e-3. */
  learningRate?: number;
  /** Seed of the shuffle, where stage i uses seed + i. Default 0. */
  seed?: number;
  /** Inputs to evaluate each stage on after every epoch, passed through the stages before it. */
  validation?: { x: tf.Tensor };
  /** Called before each stage. The callback it returns, if any, receives that stage's epochs. */
  onStageStart?: (stage: PretrainingStage) => EpochCallback | void;
  /**
   * Called after each stage with its result and the trained shallow autoencoder, whose
   * weights are already copied into the deep network. The shallow model is disposed
   * when the returned promise settles, so copy anything you need from it.
   */
  onStageEnd?: (
    result: PretrainingResult,
    shallow: tf.LayersModel,
  ) => void | Promise<void>;
}

interface DenseSpec {
  layer: tf.layers.Layer;
  units: number;
  activation: string;
  useBias: boolean;
}

/** Lists the layers of a Sequential model of dense layers, rejecting any other kind. */
function denseLayers(fn: string, argument: string, model: unknown): DenseSpec[] {
  if (!(model instanceof tf.LayersModel)) {
    invalid(fn, argument, "be a tf.LayersModel", model);
  }
  const specs: DenseSpec[] = [];
  for (const layer of model.layers) {
    const kind = layer.getClassName();
    if (kind === "InputLayer") continue;
    if (kind !== "Dense") {
      invalid(
        fn,
        argument,
        "contain only dense layers",
        `layer '${layer.name}' (${kind})`,
      );
    }
    const config = layer.getConfig();
    specs.push({
      layer,
      units: config.units as number,
      activation: config.activation as string,
      useBias: config.useBias as boolean,
    });
  }
  if (specs.length === 0) invalid(fn, argument, "contain a dense layer", model);
  return specs;
}

function inputWidth(model: tf.LayersModel): number {
  const shape = model.inputs[0].shape;
  return shape[shape.length - 1] as number;
}

/** Checks that the decoder's widths are the encoder's in reverse order, ending at the input width. */
function checkMirrored(
  fn: string,
  encoder: tf.LayersModel,
  encoderSpecs: DenseSpec[],
  decoderSpecs: DenseSpec[],
): number[] {
  const sizes = [inputWidth(encoder), ...encoderSpecs.map((s) => s.units)];
  const expected = sizes.slice(0, -1).reverse();
  const actual = decoderSpecs.map((s) => s.units);
  if (expected.join(",") !== actual.join(",")) {
    throw new AekitError(
      `${fn}: ae.decoder must mirror the encoder with dense layers of [${expected.join(", ")}] ` +
        `units, got [${actual.join(", ")}]`,
    );
  }
  return sizes;
}

function stageEpochs(fn: string, epochs: unknown, stages: number): number[] {
  if (Array.isArray(epochs)) {
    if (epochs.length !== stages) {
      invalid(fn, "epochs", `have one entry per stage (${stages})`, epochs);
    }
    return epochs.map((e, i) => checkInteger(fn, `epochs[${i}]`, e, 1));
  }
  const each = checkInteger(fn, "epochs", epochs, 1);
  return Array.from({ length: stages }, () => each);
}

function checkInputs(fn: string, argument: string, x: unknown, width: number): tf.Tensor {
  if (!(x instanceof tf.Tensor)) invalid(fn, argument, "be a tf.Tensor", x);
  if (x.rank !== 2 || x.shape[1] !== width) {
    invalid(fn, argument, `have shape [count, ${width}]`, x);
  }
  if (x.shape[0] === 0) invalid(fn, argument, "hold at least one example", x);
  return x;
}

/** Builds the shallow autoencoder of one stage, starting from the deep layers' current weights. */
function shallowAutoencoder(
  encoderSpec: DenseSpec,
  decoderSpec: DenseSpec,
  inputSize: number,
  index: number,
): tf.LayersModel {
  const shallow = tf.sequential({ name: `pretraining_stage_${index + 1}` });
  shallow.add(
    tf.layers.dense({
      inputShape: [inputSize],
      units: encoderSpec.units,
      activation: encoderSpec.activation as "relu",
      useBias: encoderSpec.useBias,
    }),
  );
  shallow.add(
    tf.layers.dense({
      units: decoderSpec.units,
      activation: decoderSpec.activation as "relu",
      useBias: decoderSpec.useBias,
    }),
  );
  shallow.layers[0].setWeights(encoderSpec.layer.getWeights());
  shallow.layers[1].setWeights(decoderSpec.layer.getWeights());
  return shallow;
}

/**
 * Pretrains a deep dense autoencoder greedily, one layer pair at a time (notebook 03).
 * Stage i trains a shallow autoencoder s_i -> s_(i+1) -> s_i, with the activations of
 * encoder layer i and of the mirrored decoder layer, on the codes that the already
 * pretrained stages give for `x`. Its weights are then copied into the deep network, and
 * they stay fixed while the later stages train. The shallow models start from the deep
 * network's current weights, so a seeded network gives a repeatable run. Fine-tune the
 * whole `ae.autoencoder` afterwards with trainAutoencoder. Returns one history per stage.
 */
export async function pretrainLayerwise(
  ae: Autoencoder,
  options: LayerwiseOptions,
): Promise<PretrainingResult[]> {
  const fn = "pretrainLayerwise";
  if (typeof ae !== "object" || ae === null) invalid(fn, "ae", "be an Autoencoder", ae);
  const encoderSpecs = denseLayers(fn, "ae.encoder", ae.encoder);
  const decoderSpecs = denseLayers(fn, "ae.decoder", ae.decoder);
  const sizes = checkMirrored(fn, ae.encoder, encoderSpecs, decoderSpecs);
  const stages = encoderSpecs.length;
  const x = checkInputs(fn, "x", options.x, sizes[0]);
  const validationX =
    options.validation === undefined
      ? undefined
      : checkInputs(fn, "validation.x", options.validation.x, sizes[0]);
  const epochs = stageEpochs(fn, options.epochs ?? 5, stages);
  const batchSize = checkInteger(fn, "batchSize", options.batchSize ?? 128, 1);
  const learningRate = checkFinite(fn, "learningRate", options.learningRate ?? 1e-3);
  if (learningRate <= 0) invalid(fn, "learningRate", "be > 0", learningRate);
  const seed = checkInteger(fn, "seed", options.seed ?? 0);

  const results: PretrainingResult[] = [];
  // Stage 0 trains on the inputs themselves, and each later stage on the previous one's codes
  let codes = x;
  let validationCodes = validationX;
  try {
    for (let index = 0; index < stages; index++) {
      const encoderSpec = encoderSpecs[index];
      const decoderSpec = decoderSpecs[stages - 1 - index];
      const stage: PretrainingStage = {
        index,
        stages,
        inputSize: sizes[index],
        codeSize: sizes[index + 1],
        encoderLayer: encoderSpec.layer.name,
        decoderLayer: decoderSpec.layer.name,
      };
      const onEpochEnd = options.onStageStart?.(stage) ?? undefined;
      const shallow = shallowAutoencoder(encoderSpec, decoderSpec, sizes[index], index);
      try {
        const history = await trainAutoencoder(shallow, {
          x: codes,
          epochs: epochs[index],
          batchSize,
          learningRate,
          seed: seed + index,
          validation: validationCodes && { x: validationCodes },
          onEpochEnd,
        });
        encoderSpec.layer.setWeights(shallow.layers[0].getWeights());
        decoderSpec.layer.setWeights(shallow.layers[1].getWeights());
        const result = { ...stage, history };
        results.push(result);
        await options.onStageEnd?.(result, shallow);
      } finally {
        shallow.dispose();
      }
      if (index + 1 < stages) {
        const next = encoderSpec.layer;
        const previous = [codes, validationCodes];
        codes = tf.tidy(() => next.apply(codes) as tf.Tensor);
        validationCodes =
          validationCodes && tf.tidy(() => next.apply(validationCodes!) as tf.Tensor);
        disposeCodes(previous, [x, validationX]);
      }
    }
  } finally {
    disposeCodes([codes, validationCodes], [x, validationX]);
  }
  return results;
}

/** Disposes intermediate codes, never the caller's own inputs. */
function disposeCodes(
  codes: (tf.Tensor | undefined)[],
  inputs: (tf.Tensor | undefined)[],
): void {
  for (const tensor of codes) {
    if (tensor !== undefined && !inputs.includes(tensor)) tensor.dispose();
  }
}
