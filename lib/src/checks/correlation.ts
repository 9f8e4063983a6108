import { makeRng, randomNormal } from "../core/random";
import { convolve2d, correlate2d } from "../signal/convolve2d";
import {
  callStudent,
  runCheck,
  type CheckCase,
  type CheckOptions,
  type CheckResult,
} from "./cases";
import {
  compareMatrix,
  compareUnchanged,
  describeTolerance,
  readMatrix,
  type Tolerance,
} from "./compare";
import { formatMatrix } from "./format";
import { findMatrixHint, type KnownMistake } from "./hints";

/** The signature of the student's function in exercise 4: 2-D cross-correlation in 'valid' mode. */
export type Correlate2dValidFunction = (
  image: number[][],
  kernel: number[][],
) => number[][];

/**
 * The reference sums in float64. The tolerance also admits float32 arithmetic (about 7
 * digits), because a wrong index changes entries by far more.
 */
const TOLERANCE: Tolerance = { absolute: 1e-6, relative: 1e-6 };

function knownMistakes(
  image: number[][],
  kernel: number[][],
): KnownMistake<number[][]>[] {
  return [
    {
      hint:
        "this is the convolution, which flips the kernel: the correlation multiplies " +
        "image[r + u][c + v] by kernel[u][v] with the kernel as it is",
      value: () => convolve2d(image, kernel, "valid"),
    },
  ];
}

function sizeHint(image: number[][], kernel: number[][], received: number[][]): string {
  const [H, W] = [image.length, image[0].length];
  const [kh, kw] = [kernel.length, kernel[0].length];
  const rows = received.length;
  const cols = received[0]?.length ?? 0;
  if (rows === H + kh - 1 && cols === W + kw - 1) {
    return "that is the size of 'full' mode: 'valid' keeps only the positions where the kernel fits inside the image";
  }
  if (rows === H && cols === W) {
    return "that is the size of 'same' mode: 'valid' keeps only the positions where the kernel fits inside the image";
  }
  return `'valid' mode gives (H - kh + 1) x (W - kw + 1) = ${H - kh + 1} x ${W - kw + 1} entries`;
}

function valueCase(
  fn: Correlate2dValidFunction,
  name: string,
  image: number[][],
  kernel: number[][],
): CheckCase {
  return {
    name,
    input: `image = ${formatMatrix(image)}\nkernel = ${formatMatrix(kernel)}`,
    run: () => {
      const [imageIn, kernelIn] = [
        image.map((row) => [...row]),
        kernel.map((row) => [...row]),
      ];
      const expected = correlate2d(image, kernel, "valid");
      const received = readMatrix(callStudent(fn, imageIn, kernelIn));
      const changed = compareUnchanged([
        ["image", imageIn, image],
        ["kernel", kernelIn, kernel],
      ]);
      if (changed) return changed;
      const sameSize =
        received.length === expected.length &&
        received.every((r) => r.length === expected[0].length);
      const hint = sameSize
        ? findMatrixHint(received, expected, TOLERANCE, knownMistakes(image, kernel))
        : sizeHint(image, kernel, received);
      return compareMatrix(received, expected, TOLERANCE, hint);
    },
  };
}

function randomMatrix(rows: number, cols: number, rng: () => number): number[][] {
  return Array.from({ length: rows }, () =>
    Array.from({ length: cols }, () => Number(randomNormal(rng).toFixed(3))),
  );
}

function randomCase(fn: Correlate2dValidFunction, seed: number): CheckCase {
  const rng = makeRng(seed);
  const H = 1 + Math.floor(rng() * 9);
  const W = 1 + Math.floor(rng() * 9);
  const kh = 1 + Math.floor(rng() * H);
  const kw = 1 + Math.floor(rng() * W);
  const name = `random input (seed ${seed}, image ${H} x ${W}, kernel ${kh} x ${kw})`;
  return valueCase(fn, name, randomMatrix(H, W, rng), randomMatrix(kh, kw, rng));
}

/**
 * Checks a student's 2-D cross-correlation in 'valid' mode against
 * `correlate2d(image, kernel, "valid")`, the exercise of
 * notebooks/exercises/ex4-correlate2d-valid.ipynb. For an H x W image and a kh x kw
 * kernel no larger than the image, the output has (H - kh + 1) x (W - kw + 1) entries,
 * out[r][c] = sum_{u,v} image[r + u][c + v] kernel[u][v]. The cases cover fixed and
 * seeded random sizes, a 1 x 1 kernel, a kernel as large as the image, one-row and
 * one-column images, and inputs left unchanged.
 *
 * @returns the result of every case, after printing a one-line summary
 * @throws CheckFailedError listing each failed case with its input, the expected and the
 *   received values, when any case fails
 */
export function checkCorrelate2dValid(
  fn: Correlate2dValidFunction,
  options?: CheckOptions,
): CheckResult {
  const counting = [
    [1, 2, 3],
    [4, 5, 6],
    [7, 8, 9],
  ];
  const rng = makeRng(61);
  const cases = [
    valueCase(fn, "3 x 3 image, 2 x 2 kernel", counting, [
      [1, 0],
      [0, -1],
    ]),
    valueCase(fn, "4 x 5 image, 2 x 3 kernel", randomMatrix(4, 5, rng), [
      [1, 2, 3],
      [-1, 0, 2],
    ]),
    valueCase(fn, "1 x 1 kernel scales the image", randomMatrix(3, 4, rng), [[2.5]]),
    valueCase(
      fn,
      "kernel as large as the image",
      randomMatrix(3, 4, rng),
      randomMatrix(3, 4, rng),
    ),
    valueCase(fn, "one-row image", randomMatrix(1, 7, rng), randomMatrix(1, 3, rng)),
    valueCase(fn, "one-column image", randomMatrix(6, 1, rng), randomMatrix(2, 1, rng)),
    randomCase(fn, 1),
    randomCase(fn, 2),
    randomCase(fn, 3),
  ];
  const tolerance = `entries within ${describeTolerance(TOLERANCE)}`;
  return runCheck("checkCorrelate2dValid", fn, tolerance, cases, options);
}
