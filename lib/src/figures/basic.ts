import { checkInteger, invalid } from "../core/validate";
import { Figure, FigureOptions, baseLayout } from "./types";

/** Something that can be read as a flat list of numbers. */
type Pixels = ArrayLike<number>;

/** One row of an image grid: a label and images of equal size, flat row-major. */
export interface ImageRow {
  label: string;
  images: Pixels[];
}

/** Options of imageGrid. */
export interface ImageGridOptions extends FigureOptions {
  /** Image height in pixels. Default 28. */
  imageHeight?: number;
  /** Image width in pixels. Default 28. */
  imageWidth?: number;
  /** Display size of one image in screen pixels. Default 56. */
  cellSize?: number;
  /** Smallest and largest pixel value of the gray scale. Default [0, 1]. */
  range?: [number, number];
}

/**
 * Builds a grid of grayscale images, one labelled row per entry of `rows` (for example
 * originals above reconstructions), drawn as one heatmap with gaps between images.
 */
export function imageGrid(rows: ImageRow[], options: ImageGridOptions = {}): Figure {
  const fn = "imageGrid";
  if (!Array.isArray(rows) || rows.length === 0)
    invalid(fn, "rows", "be a non-empty array", rows);
  const h = checkInteger(fn, "imageHeight", options.imageHeight ?? 28, 1);
  const w = checkInteger(fn, "imageWidth", options.imageWidth ?? 28, 1);
  const columns = Math.max(...rows.map((row) => row.images.length));
  if (columns === 0) invalid(fn, "rows", "hold at least one image", rows);
  const gap = 2;
  const z: (number | null)[][] = [];
  rows.forEach((row, r) => {
    row.images.forEach((image, c) => {
      if (image.length !== h * w) {
        invalid(fn, `rows[${r}].images[${c}]`, `have ${h}x${w} = ${h * w} pixels`, image);
      }
    });
    for (let y = 0; y < h; y++) {
      const line: (number | null)[] = [];
      for (let c = 0; c < columns; c++) {
        const image = row.images[c];
        for (let x = 0; x < w; x++) line.push(image ? Number(image[y * w + x]) : null);
        if (c < columns - 1) for (let g = 0; g < gap; g++) line.push(null);
      }
      z.push(line);
    }
    if (r < rows.length - 1)
      for (let g = 0; g < gap; g++) z.push(new Array(z[0].length).fill(null));
  });
  const cell = options.cellSize ?? 56;
  const [zmin, zmax] = options.range ?? [0, 1];
  const layout = baseLayout(options, 0, 0);
  const margin = { l: 110, r: 10, t: options.title ? 40 : 10, b: 10 };
  layout.margin = margin;
  layout.width = options.width ?? columns * cell + margin.l + margin.r;
  layout.height = options.height ?? rows.length * cell + margin.t + margin.b;
  layout.xaxis = { visible: false, constrain: "domain" };
  layout.yaxis = {
    autorange: "reversed",
    scaleanchor: "x",
    tickmode: "array",
    tickvals: rows.map((_, r) => r * (h + gap) + (h - 1) / 2),
    ticktext: rows.map((row) => row.label),
    showgrid: false,
    zeroline: false,
  };
  layout.plot_bgcolor = "white";
  return {
    data: [
      {
        type: "heatmap",
        z,
        zmin,
        zmax,
        colorscale: "Greys",
        showscale: false,
        hoverongaps: false,
      },
    ],
    layout,
  };
}

/** One line of a line chart. */
export interface Series {
  name: string;
  y: ArrayLike<number>;
  /** x values; default 1, 2, 3, ... (epochs). */
  x?: ArrayLike<number>;
  /** Plotly dash style, for example 'dash' for validation curves. */
  dash?: string;
}

/** Options of lineChart. */
export interface LineChartOptions extends FigureOptions {
  xTitle?: string;
  yTitle?: string;
  /** Use a logarithmic y axis. Default false. */
  logY?: boolean;
}

/** Builds a chart of one or more lines, for loss curves and signals. */
export function lineChart(series: Series[], options: LineChartOptions = {}): Figure {
  if (!Array.isArray(series) || series.length === 0) {
    invalid("lineChart", "series", "be a non-empty array", series);
  }
  const layout = baseLayout(options, 640, 380);
  layout.xaxis = { title: { text: options.xTitle ?? "" } };
  layout.yaxis = {
    title: { text: options.yTitle ?? "" },
    type: options.logY ? "log" : "linear",
  };
  return {
    data: series.map((s) => ({
      type: "scatter",
      mode: "lines",
      name: s.name,
      x: s.x ? Array.from(s.x) : Array.from(s.y, (_, i) => i + 1),
      y: Array.from(s.y),
      line: s.dash ? { dash: s.dash } : undefined,
    })),
    layout,
  };
}

/** Options of scatter2d. */
export interface ScatterOptions extends FigureOptions {
  xTitle?: string;
  yTitle?: string;
  /** Names of the classes by label, for the legend. Default: the label numbers. */
  classNames?: readonly string[];
}

/** Builds a scatter plot of 2-D points colored by integer label, one trace per class. */
export function scatter2d(
  points: ArrayLike<number>[],
  labels: ArrayLike<number>,
  options: ScatterOptions = {},
): Figure {
  if (points.length !== labels.length) {
    invalid("scatter2d", "labels", `have one label per point (${points.length})`, labels);
  }
  const classes = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  const layout = baseLayout(options, 560, 480);
  layout.xaxis = { title: { text: options.xTitle ?? "" } };
  layout.yaxis = { title: { text: options.yTitle ?? "" } };
  return {
    data: classes.map((label) => {
      const members = points.filter((_, i) => labels[i] === label);
      return {
        type: "scatter",
        mode: "markers",
        name: options.classNames?.[label] ?? String(label),
        x: members.map((p) => p[0]),
        y: members.map((p) => p[1]),
        marker: { size: 4, opacity: 0.7 },
      };
    }),
    layout,
  };
}
