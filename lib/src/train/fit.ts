import * as tf from "@tensorflow/tfjs";
import { makeRng, permutation } from "../core/random";
import { checkFinite, checkInteger, invalid } from "../core/validate";

/** Named scalar loss terms; the optimizer minimizes their sum, and each is logged. */
export type LossTerms = Record<string, tf.Scalar>;

/** Computes the loss terms of one batch: the inputs and the targets the model should output. */
export type LossFunction = (x: tf.Tensor, target: tf.Tensor) => LossTerms;

/** What the training loop reports after each epoch. */
export interface EpochLogs {
  /** Epoch number, from 1. */
  epoch: number;
  /** Number of epochs in this run. */
  epochs: number;
  /** Mean total training loss over the epoch's batches. */
  loss: number;
  /** Mean of each training loss term over the epoch's batches. */
  terms: Record<string, number>;
  /** Total loss on the validation data, when given. */
  valLoss?: number;
  /** Each loss term on the validation data, when given. */
  valTerms?: Record<string, number>;
  /** Wall time of the epoch in seconds, validation included. */
  seconds: number;
}

/** The per-epoch record of a training run. */
export interface History {
  epochs: EpochLogs[];
  /** Total training loss per epoch. */
  loss: number[];
  /** Total validation loss per epoch (empty without validation data). */
  valLoss: number[];
  /** Each training loss term per epoch. */
  terms: Record<string, number[]>;
  /** Wall time of the whole run in seconds. */
  seconds: number;
}

/** Options of trainAutoencoder. */
export interface TrainOptions {
  /** Training inputs, [count, ...features]. */
  x: tf.Tensor;
  /** Targets, same count as x. Default: x itself (plain reconstruction). */
  target?: tf.Tensor;
  /** Number of passes over the training data. Default 10. */
  epochs?: number;
  /** Examples per gradient step. Default 128. */
  batchSize?: number;
  /** Learning rate of the default Adam optimizer. Default 1e-3. */
  learningRate?: number;
  /** Optimizer to use in place of Adam(learningRate). */
  optimizer?: tf.Optimizer;
  /** Seed of the per-epoch shuffle. Default 0. */
  seed?: number;
  /** Loss terms of a batch. Default: { reconstruction: mean squared error of model(x) against target }. */
  loss?: LossFunction;
  /** Transforms each training batch's inputs before the loss, e.g. a seeded corruption. */
  transformInput?: (x: tf.Tensor, step: number) => tf.Tensor;
  /** Data to evaluate the loss terms on after each epoch. */
  validation?: { x: tf.Tensor; target?: tf.Tensor };
  /** Called after each epoch with its logs; may update a live display. */
  onEpochEnd?: (logs: EpochLogs) => void | Promise<void>;
  /** Print one line per epoch to the console. Default false. */
  verbose?: boolean;
}

function mseLoss(model: tf.LayersModel): LossFunction {
  return (x, target) => ({
    reconstruction: tf.losses.meanSquaredError(
      target,
      model.apply(x) as tf.Tensor,
    ) as tf.Scalar,
  });
}

function formatLogs(logs: EpochLogs): string {
  const names = Object.keys(logs.terms);
  const parts =
    names.length > 1 ? names.map((n) => `${n} ${logs.terms[n].toFixed(4)}`) : [];
  const terms = parts.length ? ` (${parts.join(", ")})` : "";
  const val = logs.valLoss === undefined ? "" : `, validation ${logs.valLoss.toFixed(4)}`;
  const width = String(logs.epochs).length;
  return (
    `epoch ${String(logs.epoch).padStart(width)}/${logs.epochs}: loss ${logs.loss.toFixed(4)}` +
    `${terms}${val}, ${logs.seconds.toFixed(1)} s`
  );
}

/** Evaluates the mean of each loss term over `x` in batches, without gradients. */
export function evaluateLoss(
  loss: LossFunction,
  x: tf.Tensor,
  target: tf.Tensor,
  batchSize = 1024,
): Record<string, number> {
  const count = x.shape[0];
  const sums: Record<string, number> = {};
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const values = tf.tidy(() => {
      const terms = loss(x.slice(start, size), target.slice(start, size));
      return Object.fromEntries(
        Object.entries(terms).map(([name, value]) => [name, value.dataSync()[0]]),
      );
    });
    for (const [name, value] of Object.entries(values)) {
      sums[name] = (sums[name] ?? 0) + value * size;
    }
  }
  return Object.fromEntries(
    Object.entries(sums).map(([name, sum]) => [name, sum / count]),
  );
}

function checkSameCount(
  fn: string,
  x: tf.Tensor,
  target: tf.Tensor,
  argument: string,
): void {
  if (target.shape[0] !== x.shape[0]) {
    invalid(fn, argument, `have as many rows as x (${x.shape[0]})`, target);
  }
}

/**
 * Trains `model`'s weights to minimize the sum of the loss terms, with a seeded shuffle,
 * and returns the history of every term. Keeps the data on the backend; releases every
 * intermediate tensor (the caller still owns x, target and the model).
 */
export async function trainAutoencoder(
  model: tf.LayersModel,
  options: TrainOptions,
): Promise<History> {
  const fn = "trainAutoencoder";
  const { x } = options;
  if (!(x instanceof tf.Tensor)) invalid(fn, "x", "be a tf.Tensor", x);
  const target = options.target ?? x;
  if (!(target instanceof tf.Tensor)) invalid(fn, "target", "be a tf.Tensor", target);
  checkSameCount(fn, x, target, "target");
  const count = x.shape[0];
  if (count === 0) invalid(fn, "x", "hold at least one example", x);
  const epochs = checkInteger(fn, "epochs", options.epochs ?? 10, 1);
  const batchSize = checkInteger(fn, "batchSize", options.batchSize ?? 128, 1);
  const learningRate = checkFinite(fn, "learningRate", options.learningRate ?? 1e-3);
  if (learningRate <= 0) invalid(fn, "learningRate", "be > 0", learningRate);
  const seed = checkInteger(fn, "seed", options.seed ?? 0);
  if (options.validation) {
    checkSameCount(
      fn,
      options.validation.x,
      options.validation.target ?? options.validation.x,
      "validation.target",
    );
  }

  const loss = options.loss ?? mseLoss(model);
  const optimizer = options.optimizer ?? tf.train.adam(learningRate);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const rng = makeRng(seed);
  const history: History = { epochs: [], loss: [], valLoss: [], terms: {}, seconds: 0 };
  const runStart = performance.now();
  let step = 0;

  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const epochStart = performance.now();
      const order = permutation(count, rng);
      const sums: Record<string, tf.Scalar> = {};
      for (let start = 0; start < count; start += batchSize) {
        const size = Math.min(batchSize, count - start);
        const indices = tf.tensor1d(order.subarray(start, start + size), "int32");
        const cost = optimizer.minimize(
          () => {
            const xBatch = tf.gather(x, indices);
            const targetBatch = target === x ? xBatch : tf.gather(target, indices);
            const input = options.transformInput
              ? options.transformInput(xBatch, step)
              : xBatch;
            const terms = loss(input, targetBatch);
            for (const [name, value] of Object.entries(terms)) {
              const previous = sums[name];
              const weighted = value.mul(size) as tf.Scalar;
              sums[name] = tf.keep(previous ? previous.add(weighted) : weighted);
              previous?.dispose();
            }
            return tf.addN(Object.values(terms)) as tf.Scalar;
          },
          false,
          variables,
        );
        cost?.dispose();
        indices.dispose();
        step++;
      }
      const terms: Record<string, number> = {};
      for (const [name, sum] of Object.entries(sums)) {
        terms[name] = (await sum.data())[0] / count;
        sum.dispose();
      }
      const logs: EpochLogs = {
        epoch,
        epochs,
        loss: Object.values(terms).reduce((a, b) => a + b, 0),
        terms,
        seconds: 0,
      };
      if (options.validation) {
        const valX = options.validation.x;
        logs.valTerms = evaluateLoss(loss, valX, options.validation.target ?? valX);
        logs.valLoss = Object.values(logs.valTerms).reduce((a, b) => a + b, 0);
        history.valLoss.push(logs.valLoss);
      }
      logs.seconds = (performance.now() - epochStart) / 1000;
      history.epochs.push(logs);
      history.loss.push(logs.loss);
      for (const [name, value] of Object.entries(terms)) {
        (history.terms[name] ??= []).push(value);
      }
      if (options.verbose) console.log(formatLogs(logs));
      await options.onEpochEnd?.(logs);
      // Yield to the event loop so that displays and Ctrl-C are handled between epochs
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    if (!options.optimizer) optimizer.dispose();
  }
  history.seconds = (performance.now() - runStart) / 1000;
  return history;
}

export { formatLogs as formatEpochLogs };
