// Times one training epoch of a small convolutional autoencoder on each TensorFlow.js
// backend the kit supports here, with the kit's kernels registered.
//
//   npx tsx scripts/bench-conv.ts [--backends cpu,wasm] [--epochs 2]
//
// The first epoch also pays one-off costs, such as creating the optimizer's slots and
// the first call of each kernel, so the script reports every epoch and the mean of the
// later ones. The machine's load changes the numbers, so the script prints it.
import * as os from "node:os";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { registerKitKernels } from "../lib/src/backend/kernels";
import type { BackendName } from "../lib/src/backend/select";
import { makeRng } from "../lib/src/core/random";

const IMAGE_SIZE = 28;
const NUM_IMAGES = 512;
const BATCH_SIZE = 64;

interface Options {
  backends: BackendName[];
  epochs: number;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { backends: ["cpu", "wasm"], epochs: 2 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === "--backends" && value) {
      options.backends = value.split(",") as BackendName[];
    } else if (
      flag === "--epochs" &&
      Number.isInteger(Number(value)) &&
      Number(value) > 0
    ) {
      options.epochs = Number(value);
    } else {
      throw new Error(
        `bench-conv: invalid option ${flag} ${value ?? ""}; use --backends cpu,wasm or --epochs N`,
      );
    }
  }
  return options;
}

/** Builds images of one to three Gaussian blobs each, seeded, with values in [0, 1]. */
function makeImages(seed: number): tf.Tensor4D {
  const rng = makeRng(seed);
  const pixels = new Float32Array(NUM_IMAGES * IMAGE_SIZE * IMAGE_SIZE);
  for (let n = 0; n < NUM_IMAGES; n++) {
    const blobs = 1 + Math.floor(rng() * 3);
    for (let k = 0; k < blobs; k++) {
      const centerRow = 4 + rng() * (IMAGE_SIZE - 8);
      const centerCol = 4 + rng() * (IMAGE_SIZE - 8);
      const width = 1.5 + rng() * 3;
      for (let row = 0; row < IMAGE_SIZE; row++) {
        for (let col = 0; col < IMAGE_SIZE; col++) {
          const distance2 = (row - centerRow) ** 2 + (col - centerCol) ** 2;
          const index = (n * IMAGE_SIZE + row) * IMAGE_SIZE + col;
          pixels[index] = Math.min(
            1,
            pixels[index] + Math.exp(-distance2 / (2 * width * width)),
          );
        }
      }
    }
  }
  return tf.tensor4d(pixels, [NUM_IMAGES, IMAGE_SIZE, IMAGE_SIZE, 1]);
}

function buildAutoencoder(): tf.LayersModel {
  const conv = (filters: number, activation: "relu" | "sigmoid") =>
    tf.layers.conv2d({ filters, kernelSize: 3, padding: "same", activation });
  const model = tf.sequential();
  model.add(tf.layers.inputLayer({ inputShape: [IMAGE_SIZE, IMAGE_SIZE, 1] }));
  // Encoder: 28x28x1 -> 7x7x8
  model.add(conv(16, "relu"));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(conv(8, "relu"));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  // Decoder: 7x7x8 -> 28x28x1. A plain number as `size` gives a NaN output shape in
  // tfjs-layers 4.22, so the size is given per axis.
  model.add(tf.layers.upSampling2d({ size: [2, 2] }));
  model.add(conv(16, "relu"));
  model.add(tf.layers.upSampling2d({ size: [2, 2] }));
  model.add(conv(1, "sigmoid"));
  model.compile({ optimizer: tf.train.adam(1e-3), loss: "binaryCrossentropy" });
  return model;
}

/** Trains a fresh autoencoder for `epochs` epochs and returns each epoch's seconds and loss. */
async function timeEpochs(
  epochs: number,
): Promise<{ seconds: number[]; losses: number[] }> {
  const images = makeImages(1);
  const model = buildAutoencoder();
  const seconds: number[] = [];
  const losses: number[] = [];

  for (let epoch = 0; epoch < epochs; epoch++) {
    const start = performance.now();
    const history = await model.fit(images, images, {
      batchSize: BATCH_SIZE,
      epochs: 1,
      shuffle: false,
      verbose: 0,
    });
    seconds.push((performance.now() - start) / 1000);
    losses.push(history.history.loss[0] as number);
  }

  model.dispose();
  images.dispose();
  return { seconds, losses };
}

async function benchBackend(backendName: BackendName, epochs: number): Promise<void> {
  if (!(await tf.setBackend(backendName))) {
    throw new Error(`bench-conv: backend '${backendName}' failed to initialize`);
  }
  const served = registerKitKernels(backendName);
  const { seconds, losses } = await timeEpochs(epochs);

  const later = seconds.slice(1);
  const mean = later.reduce((a, b) => a + b, 0) / later.length;
  const meanText = later.length > 0 ? ` (mean after the first: ${mean.toFixed(2)})` : "";
  console.log(`${backendName}: kit kernels [${served.join(", ")}]`);
  console.log(
    `  epoch seconds ${seconds.map((s) => s.toFixed(2)).join(", ")}${meanText}`,
  );
  console.log(`  loss ${losses.map((loss) => loss.toFixed(4)).join(", ")}`);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  console.log(
    `bench-conv: TensorFlow.js ${tf.version.tfjs}, ${NUM_IMAGES} images of ` +
      `${IMAGE_SIZE}x${IMAGE_SIZE}, batch ${BATCH_SIZE}, node ${process.version}, ` +
      `${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(2)} at start`,
  );
  for (const backendName of options.backends) {
    await benchBackend(backendName, options.epochs);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
