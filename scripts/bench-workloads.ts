// The workloads of `npm run bench`. Their sizes are fixed so that
// scripts/bench_reference.py can run the same ones in PyTorch, scipy and OpenCV, so a
// change here needs the same change there.
import * as tf from "@tensorflow/tfjs";
import { makeRng } from "../lib/src/core/random";
import { contractiveLoss } from "../lib/src/models/contractive";
import { denseAutoencoder } from "../lib/src/models/dense";
import { correlate } from "../lib/src/signal/convolve";
import { correlate2d } from "../lib/src/signal/convolve2d";
import { matchTemplate } from "../lib/src/signal/template";
import { trainAutoencoder, type LossFunction } from "../lib/src/train/fit";

export const WORKLOAD_NAMES = [
  "dense-ae.train",
  "conv-ae.train",
  "contractive-ae.train",
  "dense-ae.infer",
  "correlate2d",
  "correlate",
  "matchTemplate",
] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

/** Unit of a result, throughput for the models and time per call for the signal functions. */
export type Unit = "samples/s" | "ms/call" | "s";

/** How much of a workload runs before timing starts, and how much is timed. */
export interface Schedule {
  /** Untimed epochs (training) or calls (inference, signal) before the first repeat. */
  warmup: number;
  /** Gradient steps per timed epoch (training) or calls per repeat (inference, signal). */
  steps: number;
  /** Timed repeats, whose median is the result. */
  repeats: number;
}

export const FULL_SCHEDULE: Schedule = { warmup: 2, steps: 32, repeats: 5 };
/** A few steps only, to check that the harness runs. Its numbers mean little. */
export const QUICK_SCHEDULE: Schedule = { warmup: 1, steps: 2, repeats: 2 };

export interface WorkloadRun {
  unit: Unit;
  /** One value per timed repeat. */
  repeats: number[];
}

const IMAGE_SIZE = 28;
const PIXELS = IMAGE_SIZE * IMAGE_SIZE;
const SEED = 1;

/** Seeded pixels uniform in [0, 1), `count` images of 28x28 in a row-major Float32Array. */
function randomPixels(count: number): Float32Array {
  const rng = makeRng(SEED);
  const pixels = new Float32Array(count * PIXELS);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng();
  return pixels;
}

/** Seeded rows uniform in [0, 1), the layout the kit's 2-D signal functions take. */
function randomRows(rows: number, cols: number, seed: number): Float64Array[] {
  const rng = makeRng(seed);
  return Array.from({ length: rows }, () => Float64Array.from({ length: cols }, rng));
}

/**
 * Builds the convolutional autoencoder of the benchmark: conv 16, max pool, conv 8, max
 * pool, conv 8, upsample, conv 16, upsample, conv 1, all 3x3 'same'. The kit's
 * convAutoencoder adds a 7x7 convolution after the code, so it is not used here.
 */
function benchConvAutoencoder(): tf.LayersModel {
  let layerIndex = 0;
  const conv = (filters: number, activation: "relu" | "sigmoid") =>
    tf.layers.conv2d({
      filters,
      kernelSize: 3,
      padding: "same",
      activation,
      kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + layerIndex++ }),
    });
  const model = tf.sequential();
  model.add(tf.layers.inputLayer({ inputShape: [IMAGE_SIZE, IMAGE_SIZE, 1] }));
  model.add(conv(16, "relu"));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(conv(8, "relu"));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(conv(8, "relu"));
  // A plain number as `size` gives a NaN output shape in tfjs-layers 4.22
  model.add(tf.layers.upSampling2d({ size: [2, 2] }));
  model.add(conv(16, "relu"));
  model.add(tf.layers.upSampling2d({ size: [2, 2] }));
  model.add(conv(1, "sigmoid"));
  return model;
}

/**
 * Trains with the kit's trainAutoencoder, one epoch of `schedule.steps` batches per
 * repeat, and returns samples per second of each timed epoch. One Adam optimizer serves
 * every epoch, so its slots exist before timing starts.
 */
async function timeTraining(
  model: tf.LayersModel,
  x: tf.Tensor,
  batchSize: number,
  schedule: Schedule,
  loss?: LossFunction,
): Promise<number[]> {
  const optimizer = tf.train.adam(1e-3);
  const count = x.shape[0];
  const epoch = (seed: number) =>
    trainAutoencoder(model, { x, epochs: 1, batchSize, optimizer, loss, seed });

  for (let i = 0; i < schedule.warmup; i++) await epoch(i);
  const throughputs: number[] = [];
  for (let i = 0; i < schedule.repeats; i++) {
    const start = performance.now();
    await epoch(schedule.warmup + i);
    throughputs.push(count / ((performance.now() - start) / 1000));
  }
  optimizer.dispose();
  return throughputs;
}

/** Calls `call` warm-up times, then returns its milliseconds per call in each repeat. */
function timeCalls(call: () => void, schedule: Schedule): number[] {
  for (let i = 0; i < schedule.warmup; i++) call();
  const milliseconds: number[] = [];
  for (let i = 0; i < schedule.repeats; i++) {
    const start = performance.now();
    for (let j = 0; j < schedule.steps; j++) call();
    milliseconds.push((performance.now() - start) / schedule.steps);
  }
  return milliseconds;
}

async function denseTrain(schedule: Schedule): Promise<WorkloadRun> {
  const batchSize = 128;
  const { autoencoder } = denseAutoencoder({
    inputDim: PIXELS,
    hiddenUnits: [128],
    codeSize: 32,
    activation: "relu",
    outputActivation: "sigmoid",
    seed: SEED,
  });
  const count = schedule.steps * batchSize;
  const x = tf.tensor2d(randomPixels(count), [count, PIXELS]);
  const repeats = await timeTraining(autoencoder, x, batchSize, schedule);
  x.dispose();
  autoencoder.dispose();
  return { unit: "samples/s", repeats };
}

async function convTrain(schedule: Schedule): Promise<WorkloadRun> {
  const batchSize = 64;
  const model = benchConvAutoencoder();
  const count = schedule.steps * batchSize;
  const x = tf.tensor4d(randomPixels(count), [count, IMAGE_SIZE, IMAGE_SIZE, 1]);
  const repeats = await timeTraining(model, x, batchSize, schedule);
  x.dispose();
  model.dispose();
  return { unit: "samples/s", repeats };
}

async function contractiveTrain(schedule: Schedule): Promise<WorkloadRun> {
  const batchSize = 128;
  const model = denseAutoencoder({
    inputDim: PIXELS,
    codeSize: 64,
    codeActivation: "sigmoid",
    outputActivation: "sigmoid",
    seed: SEED,
  });
  const count = schedule.steps * batchSize;
  const x = tf.tensor2d(randomPixels(count), [count, PIXELS]);
  const loss = contractiveLoss(model, 1e-4);
  const repeats = await timeTraining(model.autoencoder, x, batchSize, schedule, loss);
  x.dispose();
  model.autoencoder.dispose();
  return { unit: "samples/s", repeats };
}

async function denseInfer(schedule: Schedule): Promise<WorkloadRun> {
  const batchSize = 1024;
  const { autoencoder } = denseAutoencoder({
    inputDim: PIXELS,
    hiddenUnits: [128],
    codeSize: 32,
    seed: SEED,
  });
  const x = tf.tensor2d(randomPixels(batchSize), [batchSize, PIXELS]);
  // Reading the output back is part of the call, as a caller that uses it must
  const call = () => {
    const output = autoencoder.predict(x, { batchSize }) as tf.Tensor;
    output.dataSync();
    output.dispose();
  };
  const milliseconds = timeCalls(call, schedule);
  x.dispose();
  autoencoder.dispose();
  return {
    unit: "samples/s",
    repeats: milliseconds.map((ms) => batchSize / (ms / 1000)),
  };
}

function correlate2dCall(schedule: Schedule): WorkloadRun {
  const image = randomRows(512, 512, SEED);
  const kernel = randomRows(15, 15, SEED + 1);
  const repeats = timeCalls(() => correlate2d(image, kernel, "valid"), schedule);
  return { unit: "ms/call", repeats };
}

function correlateCall(schedule: Schedule): WorkloadRun {
  const rng = makeRng(SEED);
  const signal = Float64Array.from({ length: 1_000_000 }, rng);
  const taps = Float64Array.from({ length: 101 }, rng);
  const repeats = timeCalls(() => correlate(signal, taps, "valid"), schedule);
  return { unit: "ms/call", repeats };
}

function matchTemplateCall(schedule: Schedule): WorkloadRun {
  const image = randomRows(512, 512, SEED);
  // A patch of the image, so that the scores have one exact match
  const template = image.slice(200, 232).map((row) => row.slice(300, 332));
  const repeats = timeCalls(
    () => matchTemplate(image, template, "TM_CCOEFF_NORMED"),
    schedule,
  );
  return { unit: "ms/call", repeats };
}

/** Runs one workload in this process on the current TensorFlow.js backend. */
export async function runWorkload(
  name: WorkloadName,
  schedule: Schedule,
): Promise<WorkloadRun> {
  switch (name) {
    case "dense-ae.train":
      return denseTrain(schedule);
    case "conv-ae.train":
      return convTrain(schedule);
    case "contractive-ae.train":
      return contractiveTrain(schedule);
    case "dense-ae.infer":
      return denseInfer(schedule);
    case "correlate2d":
      return correlate2dCall(schedule);
    case "correlate":
      return correlateCall(schedule);
    case "matchTemplate":
      return matchTemplateCall(schedule);
  }
}
