import { makeRng, randomNormal } from "../core/random";
import {
  MAX_POINTS,
  checkFinite,
  checkInteger,
  checkObject,
  invalid,
} from "../core/validate";

/** Points sampled near a low-dimensional manifold, with each point's position along it. */
export interface ManifoldSample {
  /** One row per point: [x, y] for the 2-D manifolds, [x, y, z] for the swiss roll. */
  points: number[][];
  /** The manifold coordinate of each point before noise (angle or arc parameter). */
  t: number[];
}

/** Options shared by the toy manifolds. */
export interface ManifoldOptions {
  /** Number of points. Default 500. */
  n?: number;
  /** Standard deviation of the Gaussian noise added to every coordinate. Default 0.05. */
  noise?: number;
  /** Seed of the sampling and the noise. Default 0. */
  seed?: number;
}

function readOptions(fn: string, options: ManifoldOptions) {
  checkObject(fn, "options", options, "{ n: 500, noise: 0.05, seed: 0 }");
  const n = checkInteger(fn, "n", options.n ?? 500, 1);
  // each point is a small array of its own, so 1e9 points would exhaust the heap
  if (n > MAX_POINTS) invalid(fn, "n", `be at most ${MAX_POINTS} (2^22)`, n);
  const noise = checkFinite(fn, "noise", options.noise ?? 0.05);
  if (noise < 0) invalid(fn, "noise", "be >= 0", noise);
  const seed = checkInteger(fn, "seed", options.seed ?? 0);
  return { n, noise, rng: makeRng(seed) };
}

/** Samples the unit circle at uniform random angles, plus Gaussian noise. */
export function noisyCircle(options: ManifoldOptions = {}): ManifoldSample {
  const { n, noise, rng } = readOptions("noisyCircle", options);
  const points: number[][] = [];
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const angle = 2 * Math.PI * rng();
    t.push(angle);
    points.push([
      Math.cos(angle) + noise * randomNormal(rng),
      Math.sin(angle) + noise * randomNormal(rng),
    ]);
  }
  return { points, t };
}

/** The maximum number of turns of `spiral`. */
const MAX_TURNS = 1e6;

/**
 * Samples an Archimedean spiral r = t / (turns * 2 pi), t in [0, turns * 2 pi], so the
 * radius grows from 0 to 1, plus Gaussian noise. `turns` (default 1.5) must be in
 * (0, 1e6].
 */
export function spiral(
  options: ManifoldOptions & { turns?: number } = {},
): ManifoldSample {
  const { n, noise, rng } = readOptions("spiral", options);
  const turns = checkFinite("spiral", "turns", options.turns ?? 1.5);
  if (turns <= 0) invalid("spiral", "turns", "be > 0", turns);
  // t = turns * 2 pi overflows to Infinity near 2.9e307 turns, which makes every point
  // NaN. At the cap the arms are already 1 / turns = 1e-6 apart, below a plot's resolution.
  if (turns > MAX_TURNS) invalid("spiral", "turns", `be at most ${MAX_TURNS}`, turns);
  const tMax = turns * 2 * Math.PI;
  const points: number[][] = [];
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    // sqrt makes the density uniform along the arc rather than along t
    const u = tMax * Math.sqrt(rng());
    const r = u / tMax;
    t.push(u);
    points.push([
      r * Math.cos(u) + noise * randomNormal(rng),
      r * Math.sin(u) + noise * randomNormal(rng),
    ]);
  }
  return { points, t };
}

/**
 * Samples the swiss roll: t in [1.5 pi, 4.5 pi], height in [0, 21], mapped to
 * (t cos t, height, t sin t) as in scikit-learn's make_swiss_roll, plus Gaussian noise.
 */
export function swissRoll(options: ManifoldOptions = {}): ManifoldSample {
  const { n, noise, rng } = readOptions("swissRoll", options);
  const points: number[][] = [];
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const angle = 1.5 * Math.PI * (1 + 2 * rng());
    const height = 21 * rng();
    t.push(angle);
    points.push([
      angle * Math.cos(angle) + noise * randomNormal(rng),
      height + noise * randomNormal(rng),
      angle * Math.sin(angle) + noise * randomNormal(rng),
    ]);
  }
  return { points, t };
}
