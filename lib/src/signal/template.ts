import { checkOneOf } from "../core/validate";
import { convolveWindow2d, rotate180, type Size2d } from "./convolve2d";
import {
  invalidDescribed,
  readImage,
  toImageOutput,
  type Grid,
  type Signal2D,
  type Signal2DOutput,
} from "./input";
import { workArray, type WorkSlot } from "./scratch";

/** The normalized scores of `matchTemplate`, named as in OpenCV. */
export type TemplateMethod = "TM_CCORR_NORMED" | "TM_CCOEFF_NORMED";
export const TEMPLATE_METHODS: readonly TemplateMethod[] = [
  "TM_CCORR_NORMED",
  "TM_CCOEFF_NORMED",
];

/** Summed-area tables of an image and the bound on their rounding error. */
interface WindowTables {
  /** Entry (i, j), of (rows + 1) x (cols + 1), sums values[r][c] over r < i and c < j. */
  readonly sums: Float64Array;
  /** The same for the squares of the values. */
  readonly squares: Float64Array;
  /**
   * A bound on the rounding error of a window's sum of squares (or of squared
   * deviations, with `centred`) taken from the tables. A table entry adds up at most
   * rows + cols rounded partial sums, each at most the total S2 of the squares (or S1 of
   * the absolute values), and a window combines four entries. Subtracting sum^2 / size
   * adds at most 2 max|v| times the error of the window's sum.
   */
  readonly errorBound: number;
}

/** Builds the summed-area tables of `grid` in one pass, in work arrays. */
function windowTables(grid: Grid, centred: boolean): WindowTables {
  const { rows, cols, data } = grid;
  const stride = cols + 1;
  const sums = workArray("sums", (rows + 1) * stride);
  const squares = workArray("squares", (rows + 1) * stride);
  // the first row and column are the empty sums, and the work arrays are not zeroed
  sums.fill(0, 0, stride);
  squares.fill(0, 0, stride);
  for (let r = 1; r <= rows; r++) {
    sums[r * stride] = 0;
    squares[r * stride] = 0;
  }
  let absolute = 0;
  let largest = 0;
  for (let r = 0; r < rows; r++) {
    let rowSum = 0;
    let rowSquares = 0;
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c];
      const magnitude = Math.abs(v);
      rowSum += v;
      rowSquares += v * v;
      absolute += magnitude;
      if (magnitude > largest) largest = magnitude;
      const at = (r + 1) * stride + c + 1;
      sums[at] = sums[at - stride] + rowSum;
      squares[at] = squares[at - stride] + rowSquares;
    }
  }
  const total = squares[squares.length - 1];
  const perWindow = 4 * (rows + cols) * Number.EPSILON;
  const errorBound = perWindow * (total + (centred ? 2 * largest * absolute : 0));
  return { sums, squares, errorBound };
}

/**
 * Slides a template over an image and scores each position with a normalized
 * cross-correlation, like OpenCV's cv::matchTemplate (OpenCV 4.6) with
 * TM_CCORR_NORMED or TM_CCOEFF_NORMED.
 *
 * For an image I of H x W and a template T of h x w, the output R has
 * (H - h + 1) x (W - w + 1) entries. Each is one position of the template inside the
 * image: R[r][c] scores the window whose top-left pixel is I[r][c]. With sums over
 * u = 0 .. h - 1 and v = 0 .. w - 1,
 *
 *     TM_CCORR_NORMED:  R[r][c] = sum T[u][v] I[r+u][c+v]
 *                                 / sqrt(sum T[u][v]^2 * sum I[r+u][c+v]^2)
 *     TM_CCOEFF_NORMED: the same with T - mean(T) for T and I - mean(window) for I.
 *
 * TM_CCORR_NORMED is the cosine of the angle between template and window, and
 * TM_CCOEFF_NORMED is their Pearson correlation coefficient. Both lie in [-1, 1] and
 * reach 1 where the window is a positive multiple of the template. TM_CCOEFF_NORMED is
 * also unchanged when the image's brightness and contrast change (I to a * I + b with
 * a > 0), and changes sign for a < 0.
 *
 * Zero variance. Where a denominator is 0, the numerator is 0 too and the score is
 * undefined. This function returns 0 there:
 *
 * - A window that is constant (TM_CCOEFF_NORMED) or all zeros (TM_CCORR_NORMED) scores
 *   0, as in OpenCV 4.6, because it carries no evidence for or against the template. A
 *   window counts as constant (or zero) when its sum of squared deviations (or of
 *   squares) is at most a bound on the rounding error of the summed-area tables:
 *   4 (H + W) 2^-52 (S2 + 2 max|I'| S1), with I' = I - mean(I), S1 and S2 the sums of
 *   |I'| and I'^2 over the image (for TM_CCORR_NORMED, I' = I and the S1 term is
 *   dropped). For a 512 x 512 image of uniform random grey levels 0 .. 255 the bound is
 *   about 0.005, where one pixel off by one grey level adds about 1. OpenCV 4.6 zeroes
 *   more windows: those whose sum is at most min(0.5, 10 FLT_EPSILON times the window's
 *   sum of squares), as its templmatch.cpp reads.
 * - A constant template (TM_CCOEFF_NORMED) or an all-zero template (TM_CCORR_NORMED)
 *   scores 0 everywhere. OpenCV 4.6 returns 1 everywhere for a constant template under
 *   TM_CCOEFF_NORMED, a perfect match at every position whatever the image contains.
 *   This function returns 0 for every undefined score instead, so that a flat template
 *   never reports a match.
 *
 * Rounding can push a score just past -1 or 1, so scores are clamped to [-1, 1]. An
 * image or template with values beyond 2^300 or all below 2^-300 in magnitude is first
 * multiplied by a power of two, which changes no score, so that the sums of squares
 * neither overflow nor underflow.
 *
 * The method follows J. P. Lewis, "Fast Normalized Cross-Correlation", Vision
 * Interface 1995, pp. 120-123. The numerator is one cross-correlation, computed with
 * FFTs when that is estimated faster (see `correlate2d`), and the window sums come from
 * summed-area tables of I and I^2, so each position costs O(1) beyond the correlation.
 *
 * Rows of the output have the type of the image's rows (see `convolve2d`).
 *
 * @param image - a non-empty array of rows of equal length, finite numbers
 * @param template - no larger than the image in either dimension
 * @param method - 'TM_CCORR_NORMED' or 'TM_CCOEFF_NORMED'
 * @throws AekitError on empty, ragged or non-finite inputs, a template larger than the
 *   image, or an unknown method
 *
 * @example
 * const scores = matchTemplate(image, patch, "TM_CCOEFF_NORMED");
 * // the best match is the largest score, 1 where image contains patch unchanged
 *
 * See also: `correlate2d` (the unnormalized numerator), `correlate`.
 *
 * Reference: cv::matchTemplate and TemplateMatchModes, OpenCV 4.6 documentation. The
 * tests compare with values it computed.
 */
export function matchTemplate<T extends Signal2D>(
  image: T,
  template: Signal2D,
  method: TemplateMethod,
): Signal2DOutput<T> {
  const a = readImage("matchTemplate", "image", image, "image");
  const t = readImage("matchTemplate", "template", template);
  const checkedMethod = checkOneOf("matchTemplate", "method", method, TEMPLATE_METHODS);
  if (t.rows > a.rows || t.cols > a.cols) {
    invalidDescribed(
      "matchTemplate",
      "template",
      `be no larger than the image (${a.rows} x ${a.cols}) in either dimension`,
      `${t.rows} x ${t.cols}`,
    );
  }

  const centred = checkedMethod === "TM_CCOEFF_NORMED";
  const rows = a.rows - t.rows + 1;
  const scaledImage = scaleIntoRange(a);
  const scaledTemplate = scaleIntoRange(t);
  const cols = a.cols - t.cols + 1;
  const templ = centred ? subtractMean(scaledTemplate) : scaledTemplate;
  let templateEnergy = 0;
  for (const v of templ.data) templateEnergy += v * v;
  const flatTemplate = centred
    ? t.data.every((v) => v === t.data[0])
    : templateEnergy === 0;
  if (flatTemplate) {
    return toImageOutput(image, { rows, cols, data: new Float64Array(rows * cols) });
  }

  // Subtracting the image's mean changes no TM_CCOEFF_NORMED score, and keeps the
  // summed-area tables small, which shrinks their rounding error.
  const z = centred ? subtractMean(scaledImage, "centred") : scaledImage;
  const window = { top: t.rows - 1, left: t.cols - 1, rows, cols };
  // each score overwrites its numerator, and toImageOutput copies the rows out
  const scores = workArray("output", rows * cols);
  // The window tables do not depend on the correlation, so this thread builds them while
  // worker threads compute their parts of it
  let tables: WindowTables | undefined;
  convolveWindow2d(z, rotate180(templ), window, "auto", scores, () => {
    tables = windowTables(z, centred);
  });
  normalizeScores(
    scores,
    tables ?? windowTables(z, centred),
    { rows, cols },
    t,
    templateEnergy,
    centred,
  );
  return toImageOutput(image, { rows, cols, data: scores });
}

/**
 * Divides each numerator in `scores` (row-major, of the size of `output`) by the norms of its
 * window and of the template, in place. Windows whose sum of squares (or of squared
 * deviations, with `centred`) is within the tables' rounding error score 0.
 */
function normalizeScores(
  scores: Float64Array,
  tables: WindowTables,
  output: Size2d,
  template: Size2d,
  templateEnergy: number,
  centred: boolean,
): void {
  const { sums, squares, errorBound } = tables;
  const { rows, cols } = output;
  const stride = cols + template.cols;
  const size = template.rows * template.cols;
  for (let r = 0; r < rows; r++) {
    const top = r * stride;
    const bottom = (r + template.rows) * stride;
    for (let c = 0; c < cols; c++) {
      const right = c + template.cols;
      let variation =
        squares[bottom + right] -
        squares[top + right] -
        squares[bottom + c] +
        squares[top + c];
      if (centred) {
        const sum =
          sums[bottom + right] - sums[top + right] - sums[bottom + c] + sums[top + c];
        variation -= (sum * sum) / size;
      }
      const at = r * cols + c;
      if (variation <= errorBound) {
        scores[at] = 0;
      } else {
        const score = scores[at] / Math.sqrt(variation * templateEnergy);
        scores[at] = Math.min(1, Math.max(-1, score));
      }
    }
  }
}

// In the sums of squares, squares of values beyond 2^500 overflow to Infinity and
// products of values below 2^-500 underflow to 0. The limits below leave a wide margin.
const MAX_SAFE_MAGNITUDE = 2 ** 300;
const MIN_SAFE_MAGNITUDE = 2 ** -300;

/**
 * Returns the grid multiplied by a power of two that brings its largest |value| near 1,
 * or the grid itself when that value is already between 2^-300 and 2^300. Both scores
 * ignore a positive factor on the image or the template, and a power of two scales
 * without rounding, so only inputs whose squares would overflow or underflow change.
 */
function scaleIntoRange(grid: Grid): Grid {
  const values = grid.data;
  let largest = 0;
  for (let i = 0; i < values.length; i++)
    largest = Math.max(largest, Math.abs(values[i]));
  if (largest === 0 || (largest <= MAX_SAFE_MAGNITUDE && largest >= MIN_SAFE_MAGNITUDE))
    return grid;
  const factor = 2 ** -Math.round(Math.log2(largest));
  const data = Float64Array.from(grid.data, (v) => v * factor);
  return { rows: grid.rows, cols: grid.cols, data };
}

/** Returns `grid` less its mean, in the work array of `slot` when one is given. */
function subtractMean(grid: Grid, slot?: WorkSlot): Grid {
  const values = grid.data;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  const data =
    slot === undefined ? new Float64Array(values.length) : workArray(slot, values.length);
  for (let i = 0; i < values.length; i++) data[i] = values[i] - mean;
  return { rows: grid.rows, cols: grid.cols, data };
}
