import * as fs from "node:fs";
import * as path from "node:path";
import { AekitError } from "../core/errors";
import { checkOneOf, invalid } from "../core/validate";
import { ImageSet } from "./images";
import { readIdx } from "./idx";

/** Where Debian's dataset-fashion-mnist package installs the original IDX files. */
export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

/** Fashion-MNIST's class names, by label (from the dataset's README). */
export const FASHION_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
] as const;

/** The height and width of every Fashion-MNIST image, in pixels. */
const IMAGE_SIZE = 28;

const FILES = {
  train: ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"],
  test: ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"],
} as const;

function findFile(dir: string, name: string): string {
  for (const candidate of [name + ".gz", name]) {
    const full = path.join(dir, candidate);
    if (fs.existsSync(full)) return full;
  }
  throw new AekitError(
    `loadFashionMnist: ${name}.gz (or ${name}) not found in ${dir}; install the files with ` +
      "'apt-get install dataset-fashion-mnist' (Debian), or pass dir pointing at a folder " +
      "that holds the four original Fashion-MNIST IDX files",
  );
}

/**
 * Loads the 'train' (60,000) or 'test' (10,000) split of Fashion-MNIST from its original
 * IDX files in `dir`, as 28x28 grayscale images scaled to [0, 1].
 */
export function loadFashionMnist(
  split: "train" | "test" = "test",
  dir: string = FASHION_MNIST_DIR,
): ImageSet {
  checkOneOf("loadFashionMnist", "split", split, ["train", "test"] as const);
  if (typeof dir !== "string" || dir === "") {
    invalid(
      "loadFashionMnist",
      "dir",
      "be the path of a folder (a non-empty string)",
      dir,
    );
  }
  const [imageName, labelName] = FILES[split];
  const imageFile = findFile(dir, imageName);
  const labelFile = findFile(dir, labelName);
  const images = readIdx(imageFile);
  const labels = readIdx(labelFile);
  if (images.dtype !== "uint8" || images.shape.length !== 3) {
    throw new AekitError(
      `loadFashionMnist: ${imageFile} must hold uint8 images of shape [count, height, width], ` +
        `got ${images.dtype} of shape [${images.shape.join(", ")}]`,
    );
  }
  const [count, height, width] = images.shape;
  if (height !== IMAGE_SIZE || width !== IMAGE_SIZE) {
    throw new AekitError(
      `loadFashionMnist: ${imageFile} must contain ${IMAGE_SIZE}x${IMAGE_SIZE} images, ` +
        `got shape [${images.shape.join(", ")}]; the file is not a Fashion-MNIST image file`,
    );
  }
  if (count === 0) {
    throw new AekitError(
      `loadFashionMnist: ${imageFile} must contain at least one image, ` +
        `got shape [${images.shape.join(", ")}]; the file is truncated, so download or copy it again`,
    );
  }
  if (
    labels.dtype !== "uint8" ||
    labels.shape.length !== 1 ||
    labels.shape[0] !== images.shape[0]
  ) {
    throw new AekitError(
      `loadFashionMnist: ${labelFile} must hold ${images.shape[0]} uint8 labels, ` +
        `got ${labels.dtype} of shape [${labels.shape.join(", ")}]`,
    );
  }
  const badIndex = labels.data.findIndex((label) => label >= FASHION_CLASSES.length);
  if (badIndex >= 0) {
    throw new AekitError(
      `loadFashionMnist: ${labelFile} must contain labels in [0, ${FASHION_CLASSES.length - 1}], ` +
        `got ${labels.data[badIndex]} at index ${badIndex}; the file is corrupt or not ` +
        "a Fashion-MNIST label file, so download or copy it again",
    );
  }
  const pixels = new Float32Array(images.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i] / 255;
  return {
    images: pixels,
    labels: labels.data as Uint8Array,
    count,
    height,
    width,
    classNames: FASHION_CLASSES,
  };
}
