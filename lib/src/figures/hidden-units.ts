import { checkFinite, checkInteger, invalid } from "../core/validate";
import { imageGrid } from "./basic";
import { Figure, FigureOptions, baseLayout } from "./types";

/** One distribution of a histogram. */
export interface HistogramSeries {
  name: string;
  values: ArrayLike<number>;
}

/** A labelled vertical line on a histogram, e.g. a target value. */
export interface HistogramMarker {
  x: number;
  label: string;
}

/** Options of histogram. */
export interface HistogramOptions extends FigureOptions {
  /** Number of equal-width bins shared by all series. Default 50. */
  bins?: number;
  /** Lower and upper edge of the bins. Default: the smallest and largest value of all series. */
  range?: [number, number];
  xTitle?: string;
  /** Default 'count'. */
  yTitle?: string;
  /** Vertical dashed lines drawn across the plot. Default none. */
  markers?: HistogramMarker[];
}

function checkValues(fn: string, argument: string, values: unknown): ArrayLike<number> {
  const list = values as ArrayLike<unknown> | null | undefined;
  if (typeof list?.length !== "number" || list.length === 0) {
    invalid(fn, argument, "be a non-empty array of numbers", values);
  }
  for (let i = 0; i < list.length; i++) {
    const value = list[i];
    if (typeof value !== "number" || !Number.isFinite(value)) {
      invalid(fn, `${argument}[${i}]`, "be a finite number", value);
    }
  }
  return list as ArrayLike<number>;
}

function binRange(
  fn: string,
  series: HistogramSeries[],
  range: unknown,
): [number, number] {
  if (range !== undefined) {
    const pair = range as unknown[];
    const valid =
      Array.isArray(pair) &&
      pair.length === 2 &&
      pair.every((edge) => typeof edge === "number" && Number.isFinite(edge)) &&
      (pair[0] as number) < (pair[1] as number);
    if (!valid) invalid(fn, "range", "be [low, high] with finite low < high", range);
    return pair as [number, number];
  }
  let low = Infinity;
  let high = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.values.length; i++) {
      low = Math.min(low, s.values[i]);
      high = Math.max(high, s.values[i]);
    }
  }
  // all values equal: give the single bin a width so that it can be drawn
  return low === high ? [low - 0.5, high + 0.5] : [low, high];
}

/**
 * Builds a histogram of one or more distributions over shared bins, overlaid with some
 * transparency, e.g. the mean activations of hidden units with and without a sparsity
 * penalty (notebook 04), with a marker at the target rho.
 */
export function histogram(
  series: HistogramSeries[],
  options: HistogramOptions = {},
): Figure {
  const fn = "histogram";
  if (!Array.isArray(series) || series.length === 0) {
    invalid(fn, "series", "be a non-empty array of { name, values }", series);
  }
  series.forEach((s, i) => checkValues(fn, `series[${i}].values`, s?.values));
  const bins = checkInteger(fn, "bins", options.bins ?? 50, 1);
  const [low, high] = binRange(fn, series, options.range);
  const markers = options.markers ?? [];
  markers.forEach((marker, i) => checkFinite(fn, `markers[${i}].x`, marker?.x));

  const layout = baseLayout(options, 640, 380);
  layout.barmode = "overlay";
  layout.xaxis = { title: { text: options.xTitle ?? "" }, range: [low, high] };
  layout.yaxis = { title: { text: options.yTitle ?? "count" } };
  layout.shapes = markers.map((marker) => ({
    type: "line",
    xref: "x",
    yref: "paper",
    x0: marker.x,
    x1: marker.x,
    y0: 0,
    y1: 1,
    line: { dash: "dash", width: 2, color: "black" },
  }));
  layout.annotations = markers.map((marker) => ({
    x: marker.x,
    xref: "x",
    y: 1,
    yref: "paper",
    text: marker.label,
    showarrow: false,
    xanchor: "left",
    yanchor: "bottom",
  }));
  return {
    data: series.map((s) => ({
      type: "histogram",
      name: s.name,
      x: Array.from(s.values),
      xbins: { start: low, end: high, size: (high - low) / bins },
      opacity: series.length > 1 ? 0.6 : 1,
    })),
    layout,
  };
}

/** Options of featureGrid. */
export interface FeatureGridOptions extends FigureOptions {
  /** Features per row of the grid. Default 10. */
  columns?: number;
  /** Height of one feature image in pixels. Default 28. */
  imageHeight?: number;
  /** Width of one feature image in pixels. Default 28. */
  imageWidth?: number;
  /** Display size of one image in screen pixels. Default 56. */
  cellSize?: number;
}

/** Scales a feature to [0, 1] with 0 at 0.5, by its largest absolute weight. */
function scaleSymmetric(feature: ArrayLike<number>): number[] {
  let largest = 0;
  for (let i = 0; i < feature.length; i++) {
    largest = Math.max(largest, Math.abs(feature[i]));
  }
  const scale = largest > 0 ? 0.5 / largest : 0;
  return Array.from(feature, (weight) => 0.5 + weight * scale);
}

/**
 * Builds a grid of learned features drawn as images: each feature is the weight vector
 * of one hidden unit, e.g. a column of a dense encoder's kernel [inputDim, units]
 * (notebook 04). Each image is scaled by its own largest absolute weight, so a zero
 * weight is mid gray, positive weights are lighter and negative weights darker. Rows
 * are labelled with the unit numbers they show, from 1.
 */
export function featureGrid(
  features: ArrayLike<number>[],
  options: FeatureGridOptions = {},
): Figure {
  const fn = "featureGrid";
  if (!Array.isArray(features) || features.length === 0) {
    invalid(fn, "features", "be a non-empty array of weight vectors", features);
  }
  features.forEach((feature, i) => checkValues(fn, `features[${i}]`, feature));
  const columns = checkInteger(fn, "columns", options.columns ?? 10, 1);

  const rows = [];
  for (let start = 0; start < features.length; start += columns) {
    const chunk = features.slice(start, start + columns);
    const label = `units ${start + 1}-${start + chunk.length}`;
    rows.push({ label, images: chunk.map(scaleSymmetric) });
  }
  return imageGrid(rows, {
    title: options.title,
    width: options.width,
    height: options.height,
    imageHeight: options.imageHeight,
    imageWidth: options.imageWidth,
    cellSize: options.cellSize,
    range: [0, 1],
  });
}
