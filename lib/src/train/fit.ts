import * as tf from "@tensorflow/tfjs";
import { makeRng, permutation } from "../core/random";
import { AekitError, describeValue } from "../core/errors";
import {
  checkFinite,
  checkInteger,
  checkObject,
  firstNonFinite,
  invalid,
} from "../core/validate";

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
  /** Targets, with as many rows as x and the shape of the model's output. Default: x itself. */
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

/**
 * Builds the error for a training loss that became NaN or infinite. `learningRate` is
 * null when the caller passed its own optimizer.
 */
function divergedError(
  fn: string,
  epoch: number,
  terms: Record<string, number>,
  learningRate: number | null,
): AekitError {
  const loss = Object.values(terms).reduce((a, b) => a + b, 0);
  const values = Object.entries(terms)
    .map(([name, value]) => `${name} ${value}`)
    .join(", ");
  const lower =
    learningRate === null
      ? "lower the optimizer's learning rate"
      : `lower learningRate (now ${learningRate}) by a factor of 10`;
  return new AekitError(
    `${fn}: the training loss became ${loss} in epoch ${epoch} (${values}); ` +
      `the steps are too large or the loss function returns NaN, so ${lower} ` +
      "or check the loss function",
  );
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

/**
 * Evaluates the mean of each loss term over `x` in batches, without gradients.
 * `x` and `target` must have rank >= 2, at least one row, the same row count and only
 * finite values. `batchSize` must be a positive integer.
 */
export function evaluateLoss(
  loss: LossFunction,
  x: tf.Tensor,
  target: tf.Tensor,
  batchSize = 1024,
): Record<string, number> {
  const fn = "evaluateLoss";
  if (typeof loss !== "function") {
    invalid(fn, "loss", "be a function (x, target) => loss terms", loss);
  }
  checkTensor(fn, "x", x);
  checkTensor(fn, "target", target);
  checkExamples(fn, "x", x);
  checkExamples(fn, "target", target);
  checkSameCount(fn, x, target, "target");
  checkInteger(fn, "batchSize", batchSize, 1);
  // NaN inputs make every term NaN without any error from TensorFlow.js
  checkAllFinite(fn, "x", x);
  if (target !== x) checkAllFinite(fn, "target", target);

  return meanLossTerms(fn, loss, x, target, batchSize);
}

/**
 * Calls `loss` on one batch. A layer that rejects the batch's shape throws a tfjs-layers
 * ValueError, which is raised again as an AekitError that names the function, the shapes
 * and what to check, with the original error as its cause. Other errors, such as one the
 * caller's own loss throws, pass through unchanged.
 */
function callLoss(
  fn: string,
  loss: LossFunction,
  x: tf.Tensor,
  target: tf.Tensor,
): LossTerms {
  try {
    return loss(x, target);
  } catch (err) {
    // tfjs-layers 4.22 leaves the name of its ValueError at "Error", so test the class
    if (!(err instanceof Error) || err.constructor.name !== "ValueError") throw err;
    const message = err.message;
    const error = new AekitError(
      `${fn}: the loss function failed on a batch of x [${x.shape.join(", ")}] and target ` +
        `[${target.shape.join(", ")}]: ${message}. Check that x and target have the ` +
        "shapes of the model's input and output",
    );
    error.cause = err;
    throw error;
  }
}

/** Computes the mean of each loss term over the rows of already checked inputs. */
function meanLossTerms(
  fn: string,
  loss: LossFunction,
  x: tf.Tensor,
  target: tf.Tensor,
  batchSize: number,
): Record<string, number> {
  const count = x.shape[0];
  const sums: Record<string, number> = {};
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const values = tf.tidy(() => {
      const terms = callLoss(fn, loss, x.slice(start, size), target.slice(start, size));
      checkLossTerms(fn, terms);
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

/**
 * Checks what a loss function returned: an object of one or more named scalar tensors.
 * The training loop minimizes their sum, so a vector term has no single value to log.
 */
function checkLossTerms(fn: string, terms: unknown): asserts terms is LossTerms {
  const rule = "return an object of scalar tensors such as { reconstruction: mse }";
  if (terms instanceof tf.Tensor) {
    throw new AekitError(
      `${fn}: loss must ${rule}, got ${describeValue(terms)}; ` +
        "name a single scalar term, as in { loss: value }",
    );
  }
  if (typeof terms !== "object" || terms === null || Array.isArray(terms)) {
    invalid(fn, "loss", rule, terms);
  }
  const entries = Object.entries(terms);
  if (entries.length === 0) {
    throw new AekitError(`${fn}: loss must ${rule}, got an object with no terms`);
  }
  for (const [name, value] of entries) {
    if (!(value instanceof tf.Tensor) || value.rank !== 0) {
      throw new AekitError(
        `${fn}: loss must return scalar tensors, got ${describeValue(value)} for ` +
          `term '${name}'; reduce the term to one number with .mean() or .sum()`,
      );
    }
  }
}

/** Checks that `value` is a tensor that has not been disposed. */
function checkTensor(
  fn: string,
  argument: string,
  value: unknown,
): asserts value is tf.Tensor {
  if (!(value instanceof tf.Tensor)) invalid(fn, argument, "be a tf.Tensor", value);
  if (value.isDisposed) {
    throw new AekitError(
      `${fn}: ${argument} must be a tensor that is not disposed, got ` +
        `${describeValue(value)}; dispose a tensor only after its last use`,
    );
  }
}

/** Checks that `t` contains examples in rows: rank >= 2 and at least one row. */
function checkExamples(fn: string, argument: string, t: tf.Tensor): void {
  if (t.rank < 2) {
    invalid(fn, argument, "have shape [count, ...features], rank 2 or more", t);
  }
  if (t.shape[0] === 0) invalid(fn, argument, "contain at least one example", t);
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

/** Checks that every value of `t` is finite, naming the row of the first one that is not. */
function checkAllFinite(fn: string, argument: string, t: tf.Tensor): void {
  const found = firstNonFinite(t);
  if (found === null) return;
  const { index, value } = found;
  const rowSize = t.size / Math.max(t.shape[0] ?? 1, 1);
  throw new AekitError(
    `${fn}: ${argument} must contain only finite values, got ${value} in ` +
      `row ${Math.floor(index / rowSize)} (flat index ${index}); ` +
      "remove or replace the non-finite values first",
  );
}

/**
 * Checks that the examples of `t` have the shape of the model's input or output, so a
 * wrong width is reported in the kit's words rather than by a layer or loss inside
 * TensorFlow.js.
 */
function checkModelShape(
  fn: string,
  argument: string,
  model: tf.LayersModel,
  side: "input" | "output",
  t: tf.Tensor,
): void {
  const symbolic = side === "input" ? model.inputs : model.outputs;
  if (symbolic.length !== 1) return;
  const expected = symbolic[0].shape.slice(1);
  const actual = t.shape.slice(1);
  const matches =
    expected.length === actual.length &&
    expected.every((size, i) => size === null || size === actual[i]);
  if (!matches) {
    const shape = ["count", ...expected.map((size) => size ?? "any")].join(", ");
    invalid(fn, argument, `have shape [${shape}] to match the model's ${side}`, t);
  }
}

/** Returns what transformInput returned for `batch`, after checking its shape. */
function checkTransformed(fn: string, transformed: unknown, batch: tf.Tensor): tf.Tensor {
  const shape = `[${batch.shape.join(", ")}]`;
  if (!(transformed instanceof tf.Tensor)) {
    invalid(
      fn,
      "transformInput",
      `return a tensor of the batch's shape ${shape}`,
      transformed,
    );
  }
  if (transformed.shape.join(",") !== batch.shape.join(",")) {
    throw new AekitError(
      `${fn}: transformInput must return a tensor of the batch's shape ${shape}, got ` +
        `[${transformed.shape.join(", ")}]; corrupt the batch without changing its shape, ` +
        "for example x.add(noise)",
    );
  }
  return transformed;
}

/** Checks an optional callback option. */
function checkOptionalFunction(
  fn: string,
  argument: string,
  value: unknown,
  signature: string,
): void {
  if (value !== undefined && typeof value !== "function") {
    invalid(fn, argument, `be a function ${signature}`, value);
  }
}

/**
 * Checks the tensors of the training options: x, target and the validation data. Each
 * must be a live tensor of examples that matches the model's input or output and contains
 * only finite values.
 */
function checkTrainData(fn: string, model: tf.LayersModel, options: TrainOptions): void {
  const { x } = options;
  checkTensor(fn, "x", x);
  const target = options.target ?? x;
  checkTensor(fn, "target", target);
  checkSameCount(fn, x, target, "target");
  if (x.shape[0] === 0) invalid(fn, "x", "contain at least one example", x);
  checkModelShape(fn, "x", model, "input", x);
  checkModelShape(fn, "target", model, "output", target);

  const validation = options.validation;
  if (validation !== undefined) {
    checkObject(fn, "validation", validation, "{ x: valX, target: valTarget }");
    checkTensor(fn, "validation.x", validation.x);
    const validationTarget = validation.target ?? validation.x;
    checkTensor(fn, "validation.target", validationTarget);
    checkSameCount(fn, validation.x, validationTarget, "validation.target");
    if (validation.x.shape[0] === 0) {
      invalid(fn, "validation.x", "contain at least one example", validation.x);
    }
    checkModelShape(fn, "validation.x", model, "input", validation.x);
    checkModelShape(fn, "validation.target", model, "output", validationTarget);
  }

  // NaN or infinite inputs make every loss NaN without any error from TensorFlow.js
  checkAllFinite(fn, "x", x);
  if (target !== x) checkAllFinite(fn, "target", target);
  if (validation !== undefined) {
    checkAllFinite(fn, "validation.x", validation.x);
    if (validation.target && validation.target !== validation.x) {
      checkAllFinite(fn, "validation.target", validation.target);
    }
  }
}

/**
 * Trains `model`'s weights to minimize the sum of the loss terms, with a seeded shuffle,
 * and returns the history of every term. Keeps the data on the backend; releases every
 * intermediate tensor, also when it throws (the caller still owns x, target and the model).
 */
export async function trainAutoencoder(
  model: tf.LayersModel,
  options: TrainOptions,
): Promise<History> {
  const fn = "trainAutoencoder";
  if (!(model instanceof tf.LayersModel))
    invalid(fn, "model", "be a tf.LayersModel", model);
  checkObject(fn, "options", options, "{ x, epochs: 10 }");
  checkTrainData(fn, model, options);
  const epochs = checkInteger(fn, "epochs", options.epochs ?? 10, 1);
  const batchSize = checkInteger(fn, "batchSize", options.batchSize ?? 128, 1);
  const learningRate = checkFinite(fn, "learningRate", options.learningRate ?? 1e-3);
  if (learningRate <= 0) invalid(fn, "learningRate", "be > 0", learningRate);
  const seed = checkInteger(fn, "seed", options.seed ?? 0);
  checkOptionalFunction(fn, "loss", options.loss, "(x, target) => loss terms");
  checkOptionalFunction(fn, "transformInput", options.transformInput, "(x, step) => x");
  checkOptionalFunction(fn, "onEpochEnd", options.onEpochEnd, "(logs) => void");
  if (options.optimizer !== undefined && !(options.optimizer instanceof tf.Optimizer)) {
    invalid(
      fn,
      "optimizer",
      "be a tf.Optimizer such as tf.train.adam(1e-3)",
      options.optimizer,
    );
  }
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  if (variables.length === 0) {
    throw new AekitError(
      `${fn}: model must have trainable weights, got a model with none; ` +
        "set trainable = true on the layers to train",
    );
  }

  const { x } = options;
  const target = options.target ?? x;
  const loss = options.loss ?? mseLoss(model);
  const optimizer = options.optimizer ?? tf.train.adam(learningRate);
  const rng = makeRng(seed);
  const history: History = { epochs: [], loss: [], valLoss: [], terms: {}, seconds: 0 };
  const runStart = performance.now();
  let step = 0;
  // Held outside the loop so that an error in any step still releases them
  let batch: tf.Tensor[] = [];
  let sums: Record<string, tf.Scalar> = {};

  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const epochStart = performance.now();
      const order = permutation(x.shape[0], rng);
      sums = {};
      for (let start = 0; start < x.shape[0]; start += batchSize) {
        const size = Math.min(batchSize, x.shape[0] - start);
        const batchIndices = tf.tensor1d(order.subarray(start, start + size), "int32");
        batch = [batchIndices];
        // Gathered before the gradient tape starts: on the tape, gather would keep a
        // copy of all of x for a gradient that nothing uses
        const xBatch = tf.gather(x, batchIndices);
        const targetBatch = target === x ? xBatch : tf.gather(target, batchIndices);
        batch.push(xBatch, targetBatch);
        const cost = optimizer.minimize(
          () => {
            // The gradient tape keeps copies of tensors for the backward pass and frees
            // them after it. A throw here skips that pass, so the copies are freed below.
            // NOTE: activeTape is engine state, typed in tfjs 4.22 but not documented, so
            // recheck the leak tests in test/train.test.ts after a tfjs upgrade.
            // Nested gradients share one tape, so inside an outer one (gradientDepth > 1)
            // the saved tensors may belong to it and are left alone.
            const engineState = tf.engine().state;
            const tape = engineState.gradientDepth === 1 ? engineState.activeTape : null;
            try {
              const input = options.transformInput
                ? checkTransformed(fn, options.transformInput(xBatch, step), xBatch)
                : xBatch;
              const terms = callLoss(fn, loss, input, targetBatch);
              checkLossTerms(fn, terms);
              for (const [name, value] of Object.entries(terms)) {
                const previous = sums[name];
                const weighted = value.mul(size) as tf.Scalar;
                sums[name] = tf.keep(previous ? previous.add(weighted) : weighted);
                previous?.dispose();
              }
              return tf.addN(Object.values(terms)) as tf.Scalar;
            } catch (err) {
              for (const node of tape ?? []) tf.dispose(node.saved ?? []);
              throw err;
            }
          },
          false,
          variables,
        );
        cost?.dispose();
        tf.dispose(batch);
        batch = [];
        step++;
      }
      const terms: Record<string, number> = {};
      for (const [name, sum] of Object.entries(sums)) {
        terms[name] = (await sum.data())[0] / x.shape[0];
        sum.dispose();
      }
      const logs: EpochLogs = {
        epoch,
        epochs,
        loss: Object.values(terms).reduce((a, b) => a + b, 0),
        terms,
        seconds: 0,
      };
      if (!Number.isFinite(logs.loss)) {
        throw divergedError(fn, epoch, terms, options.optimizer ? null : learningRate);
      }
      if (options.validation) {
        const valX = options.validation.x;
        const valTarget = options.validation.target ?? valX;
        logs.valTerms = meanLossTerms(fn, loss, valX, valTarget, 1024);
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
    // Disposing a tensor twice is a no-op, so the sums already read are safe to pass
    tf.dispose(batch);
    tf.dispose(Object.values(sums));
    if (!options.optimizer) optimizer.dispose();
  }
  history.seconds = (performance.now() - runStart) / 1000;
  return history;
}

export { formatLogs as formatEpochLogs };
