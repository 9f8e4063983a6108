import FFT from "fft.js";
import type { Grid } from "./input";

// fft.js transforms complex arrays of interleaved (re, im) pairs, of power-of-two sizes.
// Building a plan evaluates 2 * size sines and cosines, so plans up to MAX_KEPT_PLAN
// (whose tables take about 1 MB) are kept for reuse.
const MAX_KEPT_PLAN = 65536;
const plans = new Map<number, FFT>();

function plan(size: number): FFT {
  let fft = plans.get(size);
  if (fft === undefined) {
    fft = new FFT(size);
    if (size <= MAX_KEPT_PLAN) plans.set(size, fft);
  }
  return fft;
}

/** Returns the smallest power of two that is >= n and >= 2 (fft.js's smallest size). */
export function nextPowerOfTwo(n: number): number {
  let size = 2;
  while (size < n) size *= 2;
  return size;
}

// Cost estimates in units of one multiply-add of the direct sum, from CPU times measured
// with Node 20 on a 2-core x86-64 machine (only the ratios matter). A complex fft.js
// transform of size n costs about FFT_COST * n * log2(n). Filling a block, multiplying
// spectra and copying the result out cost about BLOCK_COST per sample in 1-D and
// TILE_COST per sample in 2-D.
const FFT_COST = 0.9;
const BLOCK_COST = 5.5;
const TILE_COST = 10;

/** The block size and estimated cost of an overlap-save convolution in 1-D. */
export interface BlockPlan {
  readonly size: number;
  readonly cost: number;
}

/**
 * Chooses the power-of-two block size for `convolveFft` with the smallest estimated cost,
 * for `length` outputs of a kernel of `taps` samples.
 */
export function planBlocks(taps: number, length: number): BlockPlan {
  const largest = nextPowerOfTwo(length + taps - 1);
  let best: BlockPlan = { size: largest, cost: Infinity };
  for (let size = nextPowerOfTwo(taps); size <= largest; size *= 2) {
    const blocks = Math.ceil(length / (size - taps + 1));
    // two blocks share one forward and one inverse transform, plus one for the kernel
    const transforms = 2 * Math.ceil(blocks / 2) + 1;
    const cost =
      transforms * FFT_COST * size * Math.log2(size) + blocks * BLOCK_COST * size;
    if (cost < best.cost) best = { size, cost };
  }
  return best;
}

/**
 * Computes samples [start, start + length) of the full linear convolution of x and h,
 * where sample i is sum_k h[k] x[i - k], by overlap-save with blocks of `size` samples,
 * into `out` when it is given (every entry overwritten).
 *
 * Each block of `size` input samples, multiplied with the kernel's spectrum, yields
 * size - h.length + 1 outputs free of wrap-around. Two real blocks travel as the real
 * and imaginary parts of one complex transform, and the inverse transform is a forward
 * one on the conjugate, so the real part holds the first block and minus the imaginary
 * part the second.
 */
export function convolveFft(
  x: Float64Array,
  h: Float64Array,
  start: number,
  length: number,
  size: number,
  out: Float64Array = new Float64Array(length),
): Float64Array {
  const n = x.length;
  const taps = h.length;
  const step = size - taps + 1;
  const fft = plan(size);
  const kernel = new Float64Array(2 * size);
  const padded = new Float64Array(2 * size);
  for (let k = 0; k < taps; k++) padded[2 * k] = h[k] / size;
  fft.transform(kernel, padded);

  const spectrum = new Float64Array(2 * size);
  const result = new Float64Array(2 * size);
  for (let first = 0; first < length; first += 2 * step) {
    // the block of outputs from o on reads x[o - taps + 1 .. o - taps + size]
    const offset = start + first - (taps - 1);
    if (offset >= 0 && offset + step + size <= n) {
      for (let t = 0; t < size; t++) {
        padded[2 * t] = x[offset + t];
        padded[2 * t + 1] = x[offset + step + t];
      }
    } else {
      padded.fill(0);
      for (let lane = 0; lane < 2; lane++) {
        const laneOffset = offset + lane * step;
        const from = Math.max(0, -laneOffset);
        const to = Math.min(size, n - laneOffset);
        for (let t = from; t < to; t++) padded[2 * t + lane] = x[laneOffset + t];
      }
    }
    fft.transform(spectrum, padded);
    for (let k = 0; k < 2 * size; k += 2) {
      const re = spectrum[k] * kernel[k] - spectrum[k + 1] * kernel[k + 1];
      const im = spectrum[k] * kernel[k + 1] + spectrum[k + 1] * kernel[k];
      padded[k] = re;
      padded[k + 1] = -im;
    }
    fft.transform(result, padded);
    const first0 = Math.min(step, length - first);
    const first1 = Math.min(step, length - first - step);
    const valid = 2 * (taps - 1);
    for (let t = 0; t < first0; t++) out[first + t] = result[valid + 2 * t];
    for (let t = 0; t < first1; t++) out[first + step + t] = -result[valid + 2 * t + 1];
  }
  return out;
}

/** The tile size and estimated cost of a tiled FFT convolution in 2-D. */
export interface TilePlan {
  readonly rows: number;
  readonly cols: number;
  readonly cost: number;
}

/**
 * Chooses the power-of-two tile size for `convolve2dFft` with the smallest estimated
 * cost, for an output of outRows x outCols and a kernel of kernelRows x kernelCols.
 */
export function planTiles(
  kernelRows: number,
  kernelCols: number,
  outRows: number,
  outCols: number,
): TilePlan {
  let best: TilePlan = { rows: 0, cols: 0, cost: Infinity };
  const maxRows = nextPowerOfTwo(outRows + kernelRows - 1);
  const maxCols = nextPowerOfTwo(outCols + kernelCols - 1);
  for (let rows = nextPowerOfTwo(kernelRows); rows <= maxRows; rows *= 2) {
    for (let cols = nextPowerOfTwo(kernelCols); cols <= maxCols; cols *= 2) {
      const tiles =
        Math.ceil(outRows / (rows - kernelRows + 1)) *
        Math.ceil(outCols / (cols - kernelCols + 1));
      // the forward and inverse real transforms of a tile cost about one complex
      // transform of its size, and the kernel's forward transform half of that
      const perTile =
        FFT_COST * rows * cols * Math.log2(rows * cols) + TILE_COST * rows * cols;
      const cost = (tiles + 0.5) * perTile;
      if (cost < best.cost) best = { rows, cols, cost };
    }
  }
  return best;
}

/** A spectrum in the layout of `RealTiles`, with a view of each column for fft.js. */
interface Spectrum {
  readonly data: Float64Array;
  readonly columns: readonly Float64Array[];
}

/**
 * Real 2-D transforms of rows x cols tiles. A spectrum keeps the columns 0..cols/2 of
 * the real input's transform (the rest follow by conjugate symmetry), stored column by
 * column: entry (row r, column k) is at 2 * (k * rows + r).
 */
class RealTiles {
  readonly half: number;
  private readonly rowFft: FFT;
  private readonly colFft: FFT;
  private readonly line: Float64Array;
  private readonly lineSpectrum: Float64Array;
  private readonly columns: Spectrum;
  /** The work spectra of `convolve2dFft`, for the kernel, a tile and their product. */
  readonly kernelSpectrum: Spectrum;
  readonly tileSpectrum: Spectrum;
  readonly product: Spectrum;

  constructor(
    readonly rows: number,
    readonly cols: number,
  ) {
    this.half = cols / 2 + 1;
    this.rowFft = plan(cols);
    this.colFft = plan(rows);
    this.line = new Float64Array(2 * cols);
    this.lineSpectrum = new Float64Array(2 * cols);
    this.columns = this.newSpectrum();
    this.kernelSpectrum = this.newSpectrum();
    this.tileSpectrum = this.newSpectrum();
    this.product = this.newSpectrum();
  }

  private newSpectrum(): Spectrum {
    const data = new Float64Array(2 * this.rows * this.half);
    const length = 2 * this.rows;
    const columns: Float64Array[] = [];
    for (let k = 0; k < this.half; k++)
      columns.push(data.subarray(k * length, (k + 1) * length));
    return { data, columns };
  }

  /**
   * Transforms the tile of `source` whose top-left corner is (top, left), reading zeros
   * outside the source, into `spectrum`. The values come out doubled, because unpacking
   * two real rows from one complex transform skips the division by 2.
   */
  forward(source: Grid, top: number, left: number, spectrum: Spectrum): void {
    const { rows, cols, half, line, lineSpectrum } = this;
    const columns = this.columns.data;
    columns.fill(0);
    const from = Math.max(0, -left);
    const to = Math.min(cols, source.cols - left);
    for (let r = 0; r < rows; r += 2) {
      const first = top + r;
      const firstInside = first >= 0 && first < source.rows;
      const secondInside = first + 1 >= 0 && first + 1 < source.rows;
      if (!firstInside && !secondInside) continue;
      line.fill(0);
      for (let lane = 0; lane < 2; lane++) {
        const sourceRow = first + lane;
        if (sourceRow < 0 || sourceRow >= source.rows) continue;
        const base = sourceRow * source.cols + left;
        for (let c = from; c < to; c++) line[2 * c + lane] = source.data[base + c];
      }
      this.rowFft.transform(lineSpectrum, line);
      // rows r and r + 1 are the real and imaginary parts of `line`, so their spectra
      // are (Z[k] + conj Z[-k]) / 2 and (Z[k] - conj Z[-k]) / 2i
      for (let k = 0; k < half; k++) {
        const mirror = k === 0 ? 0 : cols - k;
        const zr = lineSpectrum[2 * k];
        const zi = lineSpectrum[2 * k + 1];
        const wr = lineSpectrum[2 * mirror];
        const wi = lineSpectrum[2 * mirror + 1];
        const at = 2 * (k * rows + r);
        columns[at] = zr + wr;
        columns[at + 1] = zi - wi;
        columns[at + 2] = zi + wi;
        columns[at + 3] = wr - zr;
      }
    }
    this.transformColumns(this.columns, spectrum);
  }

  /** Runs the column transforms from `source` into `target`. */
  transformColumns(source: Spectrum, target: Spectrum): void {
    for (let k = 0; k < this.half; k++) {
      this.colFft.transform(target.columns[k], source.columns[k]);
    }
  }

  /**
   * Finishes an inverse transform. `spectrum` contains the column transforms of the
   * conjugated product spectrum divided by rows * cols. Tile rows firstRow ..
   * firstRow + count - 1 come out real, and each is passed to `write(row, values, lane)`
   * as values[2 * c + lane] for column c.
   */
  inverseRows(
    spectrum: Spectrum,
    firstRow: number,
    count: number,
    write: (row: number, values: Float64Array, lane: number) => void,
  ): void {
    const { rows, cols, half, line, lineSpectrum } = this;
    const conjugated = spectrum.data;
    for (let r = firstRow; r < firstRow + count; r += 2) {
      const paired = r + 1 < firstRow + count;
      // the full row spectrum of rows r and r + 1, packed as first + i * second
      for (let k = 0; k < half; k++) {
        const at = 2 * (k * rows + r);
        const ar = conjugated[at];
        const ai = conjugated[at + 1];
        const br = paired ? conjugated[at + 2] : 0;
        const bi = paired ? conjugated[at + 3] : 0;
        line[2 * k] = ar - bi;
        line[2 * k + 1] = ai + br;
        if (k > 0 && k < cols - k) {
          const m = cols - k;
          line[2 * m] = ar + bi;
          line[2 * m + 1] = br - ai;
        }
      }
      this.rowFft.transform(lineSpectrum, line);
      write(r, lineSpectrum, 0);
      if (paired) write(r + 1, lineSpectrum, 1);
    }
  }
}

// The tiles of the last call, kept because their four spectra (8 MB for 512 x 512 tiles)
// would otherwise be allocated and page-faulted in on every call. Tiles up to
// MAX_KEPT_TILE values are kept.
const MAX_KEPT_TILE = 512 * 512;
let lastTiles: RealTiles | undefined;

function realTiles(rows: number, cols: number): RealTiles {
  if (lastTiles !== undefined && lastTiles.rows === rows && lastTiles.cols === cols) {
    return lastTiles;
  }
  const tiles = new RealTiles(rows, cols);
  if (rows * cols <= MAX_KEPT_TILE) lastTiles = tiles;
  return tiles;
}

/**
 * Computes rows [top, top + outRows) and columns [left, left + outCols) of the full
 * linear 2-D convolution of `image` and `kernel`, where entry (i, j) is
 * sum_{u,v} kernel[u][v] image[i - u][j - v], with real FFTs of tileRows x tileCols
 * tiles (overlap-save in both dimensions). The result is written to `out` (row-major,
 * every entry overwritten).
 */
export function convolve2dFft(
  image: Grid,
  kernel: Grid,
  top: number,
  left: number,
  outRows: number,
  outCols: number,
  tileRows: number,
  tileCols: number,
  out: Float64Array = new Float64Array(outRows * outCols),
): Grid {
  const tiles = realTiles(tileRows, tileCols);
  const kernelTransform = tiles.kernelSpectrum;
  tiles.forward(kernel, 0, 0, kernelTransform);
  const kernelSpectrum = kernelTransform.data;
  // 1/4 undoes the doubling of both spectra, 1/(rows * cols) is the inverse's scale
  const scale = 1 / (4 * tileRows * tileCols);
  for (let i = 0; i < kernelSpectrum.length; i++) kernelSpectrum[i] *= scale;

  const stepRows = tileRows - kernel.rows + 1;
  const stepCols = tileCols - kernel.cols + 1;
  const spectrum = tiles.tileSpectrum;
  const product = tiles.product;
  const spectrumData = spectrum.data;
  const productData = product.data;
  for (let tr = 0; tr < outRows; tr += stepRows) {
    for (let tc = 0; tc < outCols; tc += stepCols) {
      tiles.forward(
        image,
        top + tr - kernel.rows + 1,
        left + tc - kernel.cols + 1,
        spectrum,
      );
      for (let i = 0; i < spectrumData.length; i += 2) {
        const re =
          spectrumData[i] * kernelSpectrum[i] -
          spectrumData[i + 1] * kernelSpectrum[i + 1];
        const im =
          spectrumData[i] * kernelSpectrum[i + 1] +
          spectrumData[i + 1] * kernelSpectrum[i];
        productData[i] = re;
        productData[i + 1] = -im;
      }
      tiles.transformColumns(product, spectrum);
      const rowCount = Math.min(stepRows, outRows - tr);
      const colCount = Math.min(stepCols, outCols - tc);
      tiles.inverseRows(spectrum, kernel.rows - 1, rowCount, (row, values, lane) => {
        const base = (tr + row - kernel.rows + 1) * outCols + tc;
        const offset = 2 * (kernel.cols - 1) + lane;
        for (let c = 0; c < colCount; c++) out[base + c] = values[offset + 2 * c];
      });
    }
  }
  return { rows: outRows, cols: outCols, data: out };
}
