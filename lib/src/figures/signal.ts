import { checkFinite, checkInteger, invalid } from "../core/validate";
import { readImage, readSignal } from "../signal/input";
import { Figure, FigureOptions, baseLayout } from "./types";

// plotly.js's default colorway (plotly.js 3.7), set explicitly so that a series' stems
// and markers, drawn as two traces, share one color
const COLORS = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

// the peak of a correlation map is marked in red
const PEAK_COLOR = COLORS[3];

/**
 * Rounds to 4 significant digits, far finer than a color scale shows, so that a heatmap
 * of thousands of values keeps the notebook small (a figure's JSON is stored twice).
 */
const round = (value: number) => Number(value.toPrecision(4));

/** One discrete-time signal of a stem plot. */
export interface StemSeries {
  name: string;
  /** The samples x[n]. */
  y: ArrayLike<number>;
  /** The sample indices n. Default 0, 1, 2, ... */
  x?: ArrayLike<number>;
}

/** Options of stemPlot. */
export interface StemPlotOptions extends FigureOptions {
  /** Title of the x axis. Default "n". */
  xTitle?: string;
  /** Title of the y axis. With `stacked`, each panel is titled with its series' name. */
  yTitle?: string;
  /**
   * One panel per series, stacked from the top and sharing the x axis. The default
   * height is then 160 pixels per panel plus 70. Default false.
   */
  stacked?: boolean;
}

/**
 * Builds a stem plot of discrete-time signals (input, impulse response, output): a
 * marker at each sample (n, x[n]) on a line from 0. Each series is two 'scatter' traces,
 * the stems as line segments separated by nulls and the markers, in one color and one
 * legend entry (the legend is shown for two or more series, unless `stacked`).
 * Notebook 08 draws signals and impulse responses with it.
 */
export function stemPlot(series: StemSeries[], options: StemPlotOptions = {}): Figure {
  const fn = "stemPlot";
  if (!Array.isArray(series) || series.length === 0) {
    invalid(fn, "series", "be a non-empty array", series);
  }
  const stacked = options.stacked ?? false;
  const panelHeight = 160;
  const layout = baseLayout(
    options,
    640,
    stacked ? 70 + series.length * panelHeight : 380,
  );
  layout.xaxis = {
    title: { text: options.xTitle ?? "n" },
    zeroline: false,
    // stacked panels share the x axis, drawn under the bottom panel
    anchor: stacked && series.length > 1 ? `y${series.length}` : "y",
  };
  layout.showlegend = !stacked && series.length > 1;

  const data: Record<string, unknown>[] = [];
  // the gap between stacked panels, as a fraction of the plot's height
  const gap = 0.04;
  const panel = (1 - gap * (series.length - 1)) / series.length;
  series.forEach((s, i) => {
    const ys = readSignal(fn, `series[${i}].y`, s.y);
    const xs =
      s.x === undefined ? ys.map((_, n) => n) : readSignal(fn, `series[${i}].x`, s.x);
    if (xs.length !== ys.length) {
      invalid(fn, `series[${i}].x`, `have one index per sample (${ys.length})`, s.x);
    }
    const color = COLORS[i % COLORS.length];
    const axis = stacked && i > 0 ? `y${i + 1}` : "y";
    const stemX: (number | null)[] = [];
    const stemY: (number | null)[] = [];
    xs.forEach((n, k) => {
      stemX.push(n, n, null);
      stemY.push(0, ys[k], null);
    });
    data.push(
      {
        type: "scatter",
        mode: "lines",
        name: s.name,
        legendgroup: s.name,
        showlegend: false,
        x: stemX,
        y: stemY,
        yaxis: axis,
        line: { color, width: 1.5 },
        hoverinfo: "skip",
      },
      {
        type: "scatter",
        mode: "markers",
        name: s.name,
        legendgroup: s.name,
        x: Array.from(xs),
        y: Array.from(ys),
        yaxis: axis,
        marker: { color, size: 6 },
      },
    );
    if (stacked) {
      // panel 0 sits at the top; plotly counts the domain from the bottom
      const top = 1 - i * (panel + gap);
      layout[i === 0 ? "yaxis" : `yaxis${i + 1}`] = {
        title: { text: s.name },
        domain: [Math.max(0, top - panel), top],
        anchor: "x",
      };
    }
  });
  if (!stacked) layout.yaxis = { title: { text: options.yTitle ?? "" } };
  return { data, layout };
}

/** The largest entry of a 2-D map and where it is. */
export interface Peak {
  row: number;
  col: number;
  value: number;
}

/**
 * Finds the largest entry of a 2-D map (rows of equal length), the first one in
 * row-major order on ties. correlationHeatmap marks the same entry, so a notebook that
 * asserts a match location tests the place its figure shows.
 */
export function peakLocation(map: readonly ArrayLike<number>[]): Peak {
  const grid = readImage("peakLocation", "map", map);
  let best = 0;
  for (let i = 1; i < grid.data.length; i++) {
    if (grid.data[i] > grid.data[best]) best = i;
  }
  return {
    row: Math.floor(best / grid.cols),
    col: best % grid.cols,
    value: grid.data[best],
  };
}

/** A labelled point of a correlationHeatmap, in (row, column) of the map. */
export interface MapMark {
  row: number;
  col: number;
  name: string;
  /** Marker color. Default "black". */
  color?: string;
}

/** Options of correlationHeatmap. */
export interface CorrelationHeatmapOptions extends FigureOptions {
  /** A plotly colorscale name. Default "Viridis". */
  colorscale?: string;
  /** The values at the two ends of the color scale. Default the map's min and max. */
  range?: [number, number];
  /** Title of the color bar. Default "score". */
  colorbarTitle?: string;
  /** Mark the largest entry (see peakLocation). Default true. */
  markPeak?: boolean;
  /** More points to mark, for example where the true match is. */
  marks?: MapMark[];
  /** Display size of one map entry in screen pixels. Default 4. */
  cellSize?: number;
}

/**
 * Builds a heatmap of a 2-D correlation or template-matching map, with row 0 at the
 * top as in an image and square cells, and its peak (red) and any other points marked
 * by open circles named in the legend. A mark is drawn larger than the peak's circle,
 * so both stay visible where they coincide. Entry (r, c) is the score of the template
 * placed with its top-left pixel at (r, c). Notebook 09 shows correlation and NCC maps
 * with it.
 */
export function correlationHeatmap(
  map: readonly ArrayLike<number>[],
  options: CorrelationHeatmapOptions = {},
): Figure {
  const fn = "correlationHeatmap";
  const grid = readImage(fn, "map", map);
  const cell = checkFinite(fn, "cellSize", options.cellSize ?? 4);
  if (cell <= 0) invalid(fn, "cellSize", "be > 0", cell);
  if (options.range !== undefined) checkRange(fn, options.range);
  const marks = options.marks ?? [];
  if (!Array.isArray(marks)) invalid(fn, "marks", "be an array", marks);
  marks.forEach((mark, i) => {
    checkInteger(fn, `marks[${i}].row`, mark.row, 0, grid.rows - 1);
    checkInteger(fn, `marks[${i}].col`, mark.col, 0, grid.cols - 1);
  });

  const z: number[][] = [];
  for (let r = 0; r < grid.rows; r++) {
    z.push(Array.from(grid.data.subarray(r * grid.cols, (r + 1) * grid.cols), round));
  }
  const heatmap: Record<string, unknown> = {
    type: "heatmap",
    z,
    colorscale: options.colorscale ?? "Viridis",
    colorbar: { title: { text: options.colorbarTitle ?? "score" } },
    hovertemplate: "row %{y}, column %{x}: %{z}<extra></extra>",
  };
  if (options.range) [heatmap.zmin, heatmap.zmax] = options.range;

  const circle = (mark: MapMark, size: number, color: string) => ({
    type: "scatter",
    mode: "markers",
    name: mark.name,
    x: [mark.col],
    y: [mark.row],
    marker: { symbol: "circle-open", size, line: { width: 3 }, color },
  });
  const data = [heatmap];
  if (options.markPeak ?? true) {
    const peak = peakLocation(map);
    const name = `peak at (${peak.row}, ${peak.col})`;
    data.push(circle({ row: peak.row, col: peak.col, name }, 14, PEAK_COLOR));
  }
  for (const mark of marks) data.push(circle(mark, 22, mark.color ?? "black"));

  const layout = imageLayout(options, grid.rows, grid.cols, cell, true);
  return { data, layout };
}

/** A rectangle drawn on an image, in pixels: top-left (row, col), height and width. */
export interface ImageBox {
  row: number;
  col: number;
  height: number;
  width: number;
  name: string;
  /** Line color. Default from the figure's color order, starting with orange. */
  color?: string;
}

/** Options of imageWithBoxes. */
export interface ImageWithBoxesOptions extends FigureOptions {
  /** Smallest and largest pixel value of the gray scale. Default [0, 1]. */
  range?: [number, number];
  /** Display size of one pixel in screen pixels. Default 4. */
  cellSize?: number;
}

/**
 * Builds a grayscale image (rows of pixel values, row 0 at the top) with rectangles
 * drawn on it, each a closed 'scatter' line named in the legend, for example where
 * template matching placed a template. A box covers its pixels completely: its edges run
 * along the pixel borders. Notebook 09 marks matches in a scene with it.
 */
export function imageWithBoxes(
  image: readonly ArrayLike<number>[],
  boxes: ImageBox[],
  options: ImageWithBoxesOptions = {},
): Figure {
  const fn = "imageWithBoxes";
  const grid = readImage(fn, "image", image);
  if (!Array.isArray(boxes)) invalid(fn, "boxes", "be an array", boxes);
  boxes.forEach((box, i) => {
    checkInteger(fn, `boxes[${i}].row`, box.row, 0, grid.rows - 1);
    checkInteger(fn, `boxes[${i}].col`, box.col, 0, grid.cols - 1);
    checkInteger(fn, `boxes[${i}].height`, box.height, 1, grid.rows - box.row);
    checkInteger(fn, `boxes[${i}].width`, box.width, 1, grid.cols - box.col);
  });
  const [zmin, zmax] =
    options.range === undefined ? [0, 1] : checkRange(fn, options.range);
  const cell = checkFinite(fn, "cellSize", options.cellSize ?? 4);
  if (cell <= 0) invalid(fn, "cellSize", "be > 0", cell);

  const z: number[][] = [];
  for (let r = 0; r < grid.rows; r++) {
    z.push(Array.from(grid.data.subarray(r * grid.cols, (r + 1) * grid.cols), round));
  }
  const data: Record<string, unknown>[] = [
    {
      type: "heatmap",
      z,
      zmin,
      zmax,
      // plotly's "Greys" maps low values to black and high ones to white, as imageGrid
      colorscale: "Greys",
      showscale: false,
      hovertemplate: "row %{y}, column %{x}: %{z}<extra></extra>",
    },
  ];
  boxes.forEach((box, i) => {
    const left = box.col - 0.5;
    const right = box.col + box.width - 0.5;
    const top = box.row - 0.5;
    const bottom = box.row + box.height - 0.5;
    data.push({
      type: "scatter",
      mode: "lines",
      name: box.name,
      x: [left, right, right, left, left],
      y: [top, top, bottom, bottom, top],
      line: { color: box.color ?? COLORS[(i + 1) % COLORS.length], width: 2 },
    });
  });

  const layout = imageLayout(options, grid.rows, grid.cols, cell, false);
  layout.plot_bgcolor = "white";
  return { data, layout };
}

function checkRange(fn: string, range: unknown): [number, number] {
  const ok =
    Array.isArray(range) &&
    range.length === 2 &&
    Number.isFinite(range[0]) &&
    Number.isFinite(range[1]) &&
    range[0] < range[1];
  if (!ok) invalid(fn, "range", "be [low, high] with finite low < high", range);
  return range as [number, number];
}

/**
 * Lays out a rows x cols grid of square cells of `cell` screen pixels, row 0 at the top,
 * with the legend below. With `axes`, the axes are titled "row" and "column" and the
 * figure leaves room on the right for a color bar.
 */
function imageLayout(
  options: FigureOptions,
  rows: number,
  cols: number,
  cell: number,
  axes: boolean,
): Record<string, unknown> {
  const layout = baseLayout(options, 0, 0);

  const margin = {
    l: axes ? 60 : 20,
    r: axes ? 140 : 20,
    t: options.title ? 50 : 20,
    b: axes ? 90 : 50,
  };
  layout.margin = margin;
  layout.width = options.width ?? Math.round(cols * cell) + margin.l + margin.r;
  layout.height = options.height ?? Math.round(rows * cell) + margin.t + margin.b;

  // fixed ranges around the cells, so that markers and boxes never widen the axes
  layout.xaxis = {
    title: { text: axes ? "column" : "" },
    visible: axes,
    range: [-0.5, cols - 0.5],
    constrain: "domain",
  };
  layout.yaxis = {
    title: { text: axes ? "row" : "" },
    visible: axes,
    range: [rows - 0.5, -0.5],
    scaleanchor: "x",
    constrain: "domain",
  };

  // The legend goes below the plot area, and below the x axis title when there is one.
  // plotly measures its position in fractions of the plot area's height.
  const legendGap = axes ? 55 : 10;
  layout.legend = {
    orientation: "h",
    x: 0,
    y: -legendGap / Math.max(1, rows * cell),
    yanchor: "top",
  };
  return layout;
}
