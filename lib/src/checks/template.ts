import { makeRng, randomNormal } from "../core/random";
import { matchTemplate } from "../signal/template";
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

/** The signature of the student's function in exercise 5: normalized cross-correlation (TM_CCOEFF_NORMED). */
export type NormalizedCrossCorrelationFunction = (
  image: number[][],
  template: number[][],
) => number[][];

/** Scores lie in [-1, 1], so the tolerance is absolute; it admits float32 arithmetic. */
const TOLERANCE: Tolerance = { absolute: 1e-6, relative: 0 };

const ZERO_VARIANCE_HINT =
  "a window or template with zero variance must score 0: test the denominator " +
  "before dividing, because 0 / 0 is NaN";

/**
 * Scores every window by sum T' I / sqrt(sum T'^2 * sum I^2), with T' = T - mean(T) but
 * the window I not centred: the score of a student who centres only the template.
 */
function templateCentredOnly(image: number[][], template: number[][]): number[][] {
  const [h, w] = [template.length, template[0].length];
  const flat = template.flat();
  const mean = flat.reduce((s, v) => s + v, 0) / flat.length;
  const centred = template.map((row) => row.map((v) => v - mean));
  const energy = centred.flat().reduce((s, v) => s + v * v, 0);
  return Array.from({ length: image.length - h + 1 }, (_, r) =>
    Array.from({ length: image[0].length - w + 1 }, (_, c) => {
      let product = 0;
      let squares = 0;
      for (let u = 0; u < h; u++) {
        for (let v = 0; v < w; v++) {
          product += centred[u][v] * image[r + u][c + v];
          squares += image[r + u][c + v] ** 2;
        }
      }
      return squares * energy === 0 ? 0 : product / Math.sqrt(squares * energy);
    }),
  );
}

function knownMistakes(
  image: number[][],
  template: number[][],
): KnownMistake<number[][]>[] {
  return [
    {
      hint:
        "subtract the means: the window's mean from the window and the template's " +
        "mean from the template (this is TM_CCORR_NORMED, the uncentred score)",
      value: () => matchTemplate(image, template, "TM_CCORR_NORMED"),
    },
    {
      hint:
        "centre the window too: the denominator uses the sum of (I - mean(window))^2, " +
        "not of I^2",
      value: () => templateCentredOnly(image, template),
    },
  ];
}

function hasNaNWhereZero(received: number[][], expected: number[][]): boolean {
  return expected.some((row, r) =>
    row.some((v, c) => v === 0 && Number.isNaN(received[r]?.[c])),
  );
}

function valueCase(
  fn: NormalizedCrossCorrelationFunction,
  name: string,
  image: number[][],
  template: number[][],
): CheckCase {
  return {
    name,
    input: `image = ${formatMatrix(image)}\ntemplate = ${formatMatrix(template)}`,
    run: () => {
      const expected = matchTemplate(image, template, "TM_CCOEFF_NORMED");
      const imageIn = image.map((row) => [...row]);
      const templateIn = template.map((row) => [...row]);
      const received = readMatrix(callStudent(fn, imageIn, templateIn));
      const changed = compareUnchanged([
        ["image", imageIn, image],
        ["template", templateIn, template],
      ]);
      if (changed) return changed;
      const [rows, cols] = [expected.length, expected[0].length];
      const sameSize =
        received.length === rows && received.every((row) => row.length === cols);
      let hint: string | undefined;
      if (!sameSize) {
        hint = `one score per position of the template inside the image: (H - h + 1) x (W - w + 1) = ${rows} x ${cols}`;
      } else if (hasNaNWhereZero(received, expected)) {
        hint = ZERO_VARIANCE_HINT;
      } else {
        hint = findMatrixHint(
          received,
          expected,
          TOLERANCE,
          knownMistakes(image, template),
        );
      }
      return compareMatrix(received, expected, TOLERANCE, hint);
    },
  };
}

/** Draws a seeded matrix of normal values with 3 decimals, so that no window is constant. */
function randomMatrix(rows: number, cols: number, rng: () => number): number[][] {
  return Array.from({ length: rows }, () =>
    Array.from({ length: cols }, () => Number(randomNormal(rng).toFixed(3))),
  );
}

function crop(
  image: number[][],
  top: number,
  left: number,
  h: number,
  w: number,
): number[][] {
  return image.slice(top, top + h).map((row) => row.slice(left, left + w));
}

function randomCase(fn: NormalizedCrossCorrelationFunction, seed: number): CheckCase {
  const rng = makeRng(seed);
  const H = 2 + Math.floor(rng() * 8);
  const W = 2 + Math.floor(rng() * 8);
  const h = 2 + Math.floor(rng() * (H - 1));
  const w = 2 + Math.floor(rng() * (W - 1));
  const name = `random input (seed ${seed}, image ${H} x ${W}, template ${h} x ${w})`;
  return valueCase(fn, name, randomMatrix(H, W, rng), randomMatrix(h, w, rng));
}

/**
 * Checks a student's normalized cross-correlation against
 * `matchTemplate(image, template, "TM_CCOEFF_NORMED")`, the exercise of
 * notebooks/exercises/ex5-normalized-cross-correlation.ipynb. Each window of the image
 * scores the Pearson correlation of its pixels with the template's, in [-1, 1], and a
 * window or template with zero variance scores 0. The cases cover a fixed image, an
 * exact copy (score 1), a negated copy (score -1), a change of brightness and contrast,
 * constant windows, a constant template, a template as large as the image and seeded
 * random inputs.
 *
 * @returns the result of every case, after printing a one-line summary
 * @throws CheckFailedError listing each failed case with its input, the expected and the
 *   received values, when any case fails
 */
export function checkNormalizedCrossCorrelation(
  fn: NormalizedCrossCorrelationFunction,
  options?: CheckOptions,
): CheckResult {
  const rng = makeRng(71);
  const scene = randomMatrix(6, 7, rng);
  const patch = crop(scene, 2, 3, 3, 3);
  const negated = patch.map((row) => row.map((v) => -v));
  const brighter = scene.map((row) => row.map((v) => 3 * v + 5));
  // integer pixels keep window means exact, so the flat windows have exactly zero variance
  const flatRegion = [
    [1, 3, 0, 2, 5],
    [4, 4, 4, 1, 0],
    [4, 4, 4, 2, 3],
    [4, 4, 4, 6, 1],
  ];
  const cases = [
    valueCase(
      fn,
      "4 x 4 image, 2 x 2 template",
      [
        [1, 2, 0, 3],
        [4, 1, 2, 2],
        [0, 5, 1, 1],
        [2, 2, 3, 0],
      ],
      [
        [1, 0],
        [2, 1],
      ],
    ),
    valueCase(fn, "an exact copy scores 1 at its position", scene, patch),
    valueCase(fn, "a negated copy scores -1", scene, negated),
    valueCase(fn, "brightness and contrast (3 I + 5) change no score", brighter, patch),
    valueCase(fn, "constant windows score 0", flatRegion, [
      [1, 2],
      [0, 1],
    ]),
    valueCase(fn, "a constant template scores 0 everywhere", flatRegion, [
      [2, 2],
      [2, 2],
    ]),
    valueCase(
      fn,
      "template as large as the image",
      crop(scene, 0, 0, 3, 4),
      crop(scene, 3, 3, 3, 4),
    ),
    randomCase(fn, 1),
    randomCase(fn, 2),
    randomCase(fn, 3),
  ];
  const tolerance = `scores within ${describeTolerance(TOLERANCE)}`;
  return runCheck("checkNormalizedCrossCorrelation", fn, tolerance, cases, options);
}
