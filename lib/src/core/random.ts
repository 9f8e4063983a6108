import seedrandom from "seedrandom";
import { checkInteger, invalid } from "./validate";

/** A seeded source of uniform numbers in [0, 1). */
export type Rng = () => number;

/** Makes a seeded random number generator (seedrandom's Alea, which repeats across platforms). */
export function makeRng(seed: number): Rng {
  checkInteger("makeRng", "seed", seed);
  return seedrandom.alea(String(seed));
}

/** Draws one standard normal sample by the Box-Muller transform. */
export function randomNormal(rng: Rng): number {
  // 1 - u keeps the logarithm's argument in (0, 1], so it never returns -Infinity
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Returns a seeded random permutation of 0..n-1 (Fisher-Yates). */
export function permutation(n: number, rng: Rng): Int32Array {
  checkInteger("permutation", "n", n, 0);
  if (typeof rng !== "function") {
    invalid("permutation", "rng", "be a random number generator such as makeRng(0)", rng);
  }
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  return order;
}
