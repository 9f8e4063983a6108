import * as tf from "@tensorflow/tfjs";
import { makeRng, randomNormal } from "../core/random";
import { checkFinite, checkInteger, checkOneOf, invalid } from "../core/validate";
import { checkRows } from "../linalg/dense";

/** The corruptions a denoising autoencoder can train on. */
export const CORRUPTION_KINDS = ["gaussian", "masking", "saltAndPepper"] as const;
export type CorruptionKind = (typeof CORRUPTION_KINDS)[number];

/** Options of corrupt. */
export interface CorruptionOptions {
  /**
   * 'gaussian' adds normal noise with standard deviation `level`. 'masking' sets each
   * input to 0 with probability `level`. 'saltAndPepper' sets each input with
   * probability `level` to 0 or 1, with equal chance.
   */
  kind: CorruptionKind;
  /** Standard deviation (>= 0) for 'gaussian', a probability in [0, 1] for the others. */
  level: number;
  /** Integer seed of the noise: the same seed and input give the same output. */
  seed: number;
  /** Clip the output to [0, 1], the range of pixels. Default false. */
  clip?: boolean;
}

/** Options of gaussianNoise. */
export interface GaussianNoiseOptions {
  /** Standard deviation of the noise, >= 0. */
  std: number;
  /** Integer seed of the noise. */
  seed: number;
  /** Clip the output to [0, 1], the range of pixels. Default false. */
  clip?: boolean;
}

/** Options of maskingNoise and saltAndPepperNoise. */
export interface ReplacementNoiseOptions {
  /** Probability in [0, 1] that an input is replaced (the expected fraction replaced). */
  fraction: number;
  /** Integer seed of the noise. */
  seed: number;
}

type Input = tf.Tensor | number[][];

/**
 * Applies one corruption. The noise comes from the kit's seeded generator (makeRng),
 * one draw per entry in row-major order for every input kind, so a tensor and its
 * arraySync() rows get the same noise. tf.randomNormal and tf.randomUniform are not
 * used, because TensorFlow.js 4.22's randomNormal treats seed 0 as no seed.
 */
function applyNoise(
  x: Input,
  kind: CorruptionKind,
  level: number,
  seed: number,
  clip: boolean,
): Input {
  const rng = makeRng(seed);
  const size = x instanceof tf.Tensor ? x.size : x.length * (x[0]?.length ?? 0);
  // 'gaussian' adds `noise`. The other kinds put `noise` (0 or 1) where `replaced` is 1.
  const noise = new Float32Array(size);
  const replaced = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    if (kind === "gaussian") {
      noise[i] = level * randomNormal(rng);
      continue;
    }
    const u = rng();
    replaced[i] = u < level ? 1 : 0;
    noise[i] = kind === "saltAndPepper" && u >= level / 2 ? 1 : 0;
  }

  if (x instanceof tf.Tensor) {
    return tf.tidy(() => {
      const input = tf.cast(x, "float32");
      const values = tf.tensor(noise, x.shape);
      let output =
        kind === "gaussian"
          ? tf.add(input, values)
          : tf.where(tf.tensor(replaced, x.shape, "bool"), values, input);
      if (clip) output = tf.clipByValue(output, 0, 1);
      return output;
    });
  }
  const columns = x[0]?.length ?? 0;
  return x.map((row, i) =>
    row.map((value, j) => {
      const at = i * columns + j;
      let output = value;
      if (kind === "gaussian") output = value + noise[at];
      else if (replaced[at]) output = noise[at];
      return clip ? Math.min(1, Math.max(0, output)) : output;
    }),
  );
}

function checkInput(fn: string, x: unknown): void {
  if (x instanceof tf.Tensor) return;
  checkRows(fn, "x", x);
}

function checkLevel(
  fn: string,
  argument: string,
  kind: CorruptionKind,
  level: unknown,
): number {
  checkFinite(fn, argument, level);
  const value = level as number;
  if (kind === "gaussian" && value < 0) {
    invalid(fn, argument, "be >= 0 (a standard deviation) for 'gaussian' noise", value);
  }
  if (kind !== "gaussian" && (value < 0 || value > 1)) {
    invalid(fn, argument, `be in [0, 1] (a probability) for '${kind}' noise`, value);
  }
  return value;
}

function checkClip(fn: string, clip: unknown): boolean {
  if (clip !== undefined && typeof clip !== "boolean") {
    invalid(fn, "clip", "be a boolean", clip);
  }
  return clip ?? false;
}

function checkOptions(fn: string, options: unknown): void {
  if (typeof options !== "object" || options === null) {
    invalid(fn, "options", "be an object", options);
  }
}

/**
 * Corrupts inputs for a denoising autoencoder with seeded noise of one kind: additive
 * Gaussian noise, masking noise or salt-and-pepper noise (see CorruptionOptions).
 * Masking and salt-and-pepper noise pick each input independently, so the fraction
 * they replace is binomial around `level`, not exact. Salt and pepper are 1 and 0,
 * the extremes of pixels in [0, 1].
 *
 * @param x a tf.Tensor of any shape, which gives a new float32 tensor computed in
 *   tf.tidy (dispose it), or number[][], which gives number[][]. Both get the same
 *   noise, drawn in float32. Tensors are not scanned for NaN, because that would
 *   download them.
 */
export function corrupt<T extends tf.Tensor>(x: T, options: CorruptionOptions): T;
export function corrupt(x: number[][], options: CorruptionOptions): number[][];
export function corrupt(x: Input, options: CorruptionOptions): Input {
  const fn = "corrupt";
  checkInput(fn, x);
  checkOptions(fn, options);
  const kind = checkOneOf(fn, "kind", options.kind, CORRUPTION_KINDS);
  const level = checkLevel(fn, "level", kind, options.level);
  const seed = checkInteger(fn, "seed", options.seed);
  const clip = checkClip(fn, options.clip);

  return applyNoise(x, kind, level, seed, clip);
}

/** Adds seeded Gaussian noise of standard deviation `std`, as corrupt's 'gaussian' kind. */
export function gaussianNoise<T extends tf.Tensor>(
  x: T,
  options: GaussianNoiseOptions,
): T;
export function gaussianNoise(x: number[][], options: GaussianNoiseOptions): number[][];
export function gaussianNoise(x: Input, options: GaussianNoiseOptions): Input {
  const fn = "gaussianNoise";
  checkInput(fn, x);
  checkOptions(fn, options);
  const std = checkLevel(fn, "std", "gaussian", options.std);
  const seed = checkInteger(fn, "seed", options.seed);
  const clip = checkClip(fn, options.clip);

  return applyNoise(x, "gaussian", std, seed, clip);
}

/** Sets each input to 0 with probability `fraction`, like corrupt's 'masking' kind. */
export function maskingNoise<T extends tf.Tensor>(
  x: T,
  options: ReplacementNoiseOptions,
): T;
export function maskingNoise(x: number[][], options: ReplacementNoiseOptions): number[][];
export function maskingNoise(x: Input, options: ReplacementNoiseOptions): Input {
  const fn = "maskingNoise";
  checkInput(fn, x);
  checkOptions(fn, options);
  const fraction = checkLevel(fn, "fraction", "masking", options.fraction);
  const seed = checkInteger(fn, "seed", options.seed);

  return applyNoise(x, "masking", fraction, seed, false);
}

/**
 * Sets each input with probability `fraction` to 0 or 1, with equal chance, seeded,
 * like corrupt's 'saltAndPepper' kind.
 */
export function saltAndPepperNoise<T extends tf.Tensor>(
  x: T,
  options: ReplacementNoiseOptions,
): T;
export function saltAndPepperNoise(
  x: number[][],
  options: ReplacementNoiseOptions,
): number[][];
export function saltAndPepperNoise(x: Input, options: ReplacementNoiseOptions): Input {
  const fn = "saltAndPepperNoise";
  checkInput(fn, x);
  checkOptions(fn, options);
  const fraction = checkLevel(fn, "fraction", "saltAndPepper", options.fraction);
  const seed = checkInteger(fn, "seed", options.seed);

  return applyNoise(x, "saltAndPepper", fraction, seed, false);
}
