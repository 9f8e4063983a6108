import type { Grid } from "./input";

/**
 * Computes samples [start, start + length) of the full linear convolution of x and h,
 * where sample i is sum_k h[k] x[i - k], by evaluating the sum.
 */
export function convolveDirect(
  x: Float64Array,
  h: Float64Array,
  start: number,
  length: number,
): Float64Array {
  const n = x.length;
  const taps = h.length;
  // with the kernel reversed, both arrays are read forward in the inner loop
  const reversed = h.slice().reverse();
  const out = new Float64Array(length);
  for (let o = 0; o < length; o++) {
    const first = start + o - (taps - 1);
    const from = Math.max(0, -first);
    const to = Math.min(taps, n - first);
    let sum = 0;
    for (let t = from; t < to; t++) sum += reversed[t] * x[first + t];
    out[o] = sum;
  }
  return out;
}

/**
 * Computes rows [top, top + outRows) and columns [left, left + outCols) of the full
 * linear 2-D convolution of `image` and `kernel`, where entry (i, j) is
 * sum_{u,v} kernel[u][v] image[i - u][j - v], by evaluating the sum. The result is
 * written to `out` (row-major, every entry overwritten).
 */
export function convolve2dDirect(
  image: Grid,
  kernel: Grid,
  top: number,
  left: number,
  outRows: number,
  outCols: number,
  out: Float64Array = new Float64Array(outRows * outCols),
): Grid {
  const { rows: kRows, cols: kCols } = kernel;
  const flipped = kernel.data.slice().reverse();
  const a = image.data;
  const width = image.cols;
  for (let o = 0; o < outRows; o++) {
    // the flipped kernel's row u meets image row firstRow + u
    const firstRow = top + o - (kRows - 1);
    const uFrom = Math.max(0, -firstRow);
    const uTo = Math.min(kRows, image.rows - firstRow);
    for (let p = 0; p < outCols; p++) {
      const firstCol = left + p - (kCols - 1);
      const vFrom = Math.max(0, -firstCol);
      const vTo = Math.min(kCols, width - firstCol);
      let sum = 0;
      for (let u = uFrom; u < uTo; u++) {
        const kBase = u * kCols;
        const aBase = (firstRow + u) * width + firstCol;
        for (let v = vFrom; v < vTo; v++) sum += flipped[kBase + v] * a[aBase + v];
      }
      out[o * outCols + p] = sum;
    }
  }
  return { rows: outRows, cols: outCols, data: out };
}

/**
 * Counts the multiply-adds of `convolveDirect` for the same arguments: output i of the
 * full convolution sums min(i + 1, shorter, n + taps - 1 - i) products, where `shorter`
 * is min(n, taps). In 2-D the count is the product of the counts of the two dimensions.
 */
export function directCost(
  n: number,
  taps: number,
  start: number,
  length: number,
): number {
  const shorter = Math.min(n, taps);
  const last = n + taps - 1;
  // sum_{j=1}^{t} min(j, shorter)
  const ramp = (t: number) =>
    t <= shorter
      ? (t * (t + 1)) / 2
      : (shorter * (shorter + 1)) / 2 + (t - shorter) * shorter;
  // min(i + 1, shorter, last - i)
  //   = min(i + 1, shorter) + min(last - i, shorter) - shorter,
  // because (i + 1) + (last - i) >= 2 * shorter, so one of the two terms is saturated
  const end = start + length;
  return (
    ramp(end) - ramp(start) + ramp(last - start) - ramp(last - end) - length * shorter
  );
}
