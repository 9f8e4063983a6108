import * as tf from "@tensorflow/tfjs";
import { checkInteger, checkOneOf, invalid } from "../core/validate";
import { ACTIVATIONS } from "./dense";
import type { Activation, Autoencoder } from "./dense";

/** Downsampling methods of an encoder block, each of which halves the height and width. */
export const DOWNSAMPLING = ["stride", "maxPool"] as const;
export type Downsampling = (typeof DOWNSAMPLING)[number];

/** Upsampling methods of a decoder block, each of which doubles the height and width. */
export const UPSAMPLING = ["transpose", "nearest"] as const;
export type Upsampling = (typeof UPSAMPLING)[number];

/** Options of convAutoencoder. */
export interface ConvAutoencoderOptions {
  /** Height, width and channels of one image. Default [28, 28, 1], an MNIST digit. */
  imageShape?: readonly [number, number, number];
  /**
   * Filters of each encoder block, input side first. Each block halves the height and the
   * width, rounding up, and the decoder mirrors the blocks. Default [16, 8].
   */
  filters?: readonly number[];
  /** Channels of the code, which is a small image of ceil(height / 2^blocks) rows. Default 2. */
  codeChannels?: number;
  /** Height and width of every convolution kernel. Default 3. */
  kernelSize?: number;
  /**
   * 'stride': each encoder block is a convolution with stride 2. 'maxPool': a convolution
   * with stride 1, then 2x2 max pooling. Default 'stride'.
   */
  downsampling?: Downsampling;
  /**
   * 'transpose': each decoder block is a transposed convolution with stride 2. 'nearest':
   * 2x2 nearest-neighbour upsampling, then a convolution with stride 1. Default 'transpose'.
   */
  upsampling?: Upsampling;
  /** Activation of the blocks. Default 'relu'. */
  activation?: Activation;
  /** Activation of the code layer. Default: the block activation. */
  codeActivation?: Activation;
  /**
   * Activation of the output layer. 'sigmoid' suits pixels in [0, 1]. Default 'sigmoid'.
   * NOTE: trained with MSE and Adam (3e-3) on MNIST, filters [16, 8] with a one-channel
   * code stuck at all-zero outputs with 'sigmoid' in the kit's runs; 'linear' trained.
   */
  outputActivation?: Activation;
  /**
   * true: the encoder takes and the decoder returns flat rows [batch, height * width *
   * channels], as in the dense autoencoder, and reshape and flatten layers convert inside.
   * false: they take and return images [batch, height, width, channels]. The code is an
   * image [batch, codeHeight, codeWidth, codeChannels] either way. Default true.
   */
  flat?: boolean;
  /** Seed of the initial weights (Glorot uniform); layer i uses seed + i. Default 0. */
  seed?: number;
}

function checkImageShape(fn: string, value: unknown): [number, number, number] {
  if (!Array.isArray(value) || value.length !== 3) {
    invalid(fn, "imageShape", "be [height, width, channels]", value);
  }
  const names = ["height", "width", "channels"];
  return value.map((size, i) =>
    checkInteger(fn, `imageShape[${i}] (${names[i]})`, size, 1),
  ) as [number, number, number];
}

/**
 * Builds a convolutional autoencoder (notebook 07) with seeded initial weights. The
 * encoder is a stack of blocks that each halve the image (`downsampling`), then a
 * stride-1 convolution to `codeChannels` channels: the code. The decoder mirrors the
 * encoder layer by layer: a stride-1 convolution, then one up block (`upsampling`) per
 * encoder block, the last of which outputs the image's channels with
 * `outputActivation`. It then crops any rows and columns that rounding up added. Every
 * convolution uses 'same' padding and `kernelSize` x `kernelSize` kernels. Returns the
 * three models as denseAutoencoder does, except that the code is an image, for example
 * [batch, 7, 7, codeChannels] for 28x28 inputs and two blocks.
 */
export function convAutoencoder(options: ConvAutoencoderOptions = {}): Autoencoder {
  const fn = "convAutoencoder";
  const [height, width, channels] = checkImageShape(
    fn,
    options.imageShape ?? [28, 28, 1],
  );
  const filters = options.filters ?? [16, 8];
  if (!Array.isArray(filters)) invalid(fn, "filters", "be an array of integers", filters);
  filters.forEach((count, i) => checkInteger(fn, `filters[${i}]`, count, 1));
  const codeChannels = checkInteger(fn, "codeChannels", options.codeChannels ?? 2, 1);
  const kernelSize = checkInteger(fn, "kernelSize", options.kernelSize ?? 3, 1);
  const downsampling = checkOneOf(
    fn,
    "downsampling",
    options.downsampling ?? "stride",
    DOWNSAMPLING,
  );
  const upsampling = checkOneOf(
    fn,
    "upsampling",
    options.upsampling ?? "transpose",
    UPSAMPLING,
  );
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
  const flat = options.flat ?? true;
  if (typeof flat !== "boolean") invalid(fn, "flat", "be true or false", flat);
  const seed = checkInteger(fn, "seed", options.seed ?? 0);

  let layerIndex = 0;
  const conv = (count: number, strides: number, act: Activation, name: string) =>
    tf.layers.conv2d({
      filters: count,
      kernelSize,
      strides,
      padding: "same",
      activation: act,
      name,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + layerIndex++ }),
    });
  const imageSize = height * width * channels;

  const encoder = tf.sequential({ name: "encoder" });
  if (flat) {
    encoder.add(
      tf.layers.reshape({
        inputShape: [imageSize],
        targetShape: [height, width, channels],
      }),
    );
  } else {
    encoder.add(tf.layers.inputLayer({ inputShape: [height, width, channels] }));
  }
  // With 'same' padding, a stride-2 convolution and 2x2 pooling both give ceil(size / 2)
  let codeHeight = height;
  let codeWidth = width;
  filters.forEach((count, i) => {
    const name = `encoder_block_${i + 1}`;
    if (downsampling === "stride") {
      encoder.add(conv(count, 2, activation, name));
    } else {
      encoder.add(conv(count, 1, activation, name));
      encoder.add(
        tf.layers.maxPooling2d({
          poolSize: [2, 2],
          padding: "same",
          name: `${name}_pool`,
        }),
      );
    }
    codeHeight = Math.ceil(codeHeight / 2);
    codeWidth = Math.ceil(codeWidth / 2);
  });
  encoder.add(conv(codeChannels, 1, codeActivation, "code"));

  // The decoder mirrors the encoder layer by layer: a stride-1 convolution undoes the code
  // layer, then each up block undoes one encoder block, and the last one outputs the image
  const decoder = tf.sequential({ name: "decoder" });
  decoder.add(
    tf.layers.inputLayer({ inputShape: [codeHeight, codeWidth, codeChannels] }),
  );
  const blocks = filters.length;
  const lastActivation = (isLast: boolean) => (isLast ? outputActivation : activation);
  decoder.add(
    conv(
      blocks > 0 ? filters[blocks - 1] : channels,
      1,
      lastActivation(blocks === 0),
      blocks > 0 ? "decoder_code" : "reconstruction",
    ),
  );
  for (let block = blocks - 1; block >= 0; block--) {
    const count = block > 0 ? filters[block - 1] : channels;
    const act = lastActivation(block === 0);
    const name = block > 0 ? `decoder_block_${blocks - block}` : "reconstruction";
    if (upsampling === "transpose") {
      decoder.add(
        tf.layers.conv2dTranspose({
          filters: count,
          kernelSize,
          strides: 2,
          padding: "same",
          activation: act,
          name,
          kernelInitializer: tf.initializers.glorotUniform({ seed: seed + layerIndex++ }),
        }),
      );
    } else {
      // NOTE: tfjs 4.22 gives the output shape NaN for a plain number `size: 2`, so the
      // size is always the pair [2, 2]
      decoder.add(tf.layers.upSampling2d({ size: [2, 2], name: `${name}_upsample` }));
      decoder.add(conv(count, 1, act, name));
    }
  }
  const extraRows = codeHeight * 2 ** blocks - height;
  const extraColumns = codeWidth * 2 ** blocks - width;
  if (extraRows > 0 || extraColumns > 0) {
    const top = Math.floor(extraRows / 2);
    const left = Math.floor(extraColumns / 2);
    decoder.add(
      tf.layers.cropping2D({
        cropping: [
          [top, extraRows - top],
          [left, extraColumns - left],
        ],
        name: "crop",
      }),
    );
  }
  if (flat) decoder.add(tf.layers.flatten({ name: "flatten" }));

  const inputShape = flat ? [imageSize] : [height, width, channels];
  const input = tf.input({ shape: inputShape, name: "input" });
  const output = decoder.apply(encoder.apply(input)) as tf.SymbolicTensor;
  const autoencoder = tf.model({ inputs: input, outputs: output, name: "autoencoder" });
  return { encoder, decoder, autoencoder };
}
