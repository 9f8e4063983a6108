import { checkFinite, invalid } from "../core/validate";
import { Figure, FigureOptions, baseLayout } from "./types";

/** Options of quiverPlot. */
export interface QuiverOptions extends FigureOptions {
  /** Factor applied to every vector before drawing, so 1 draws true lengths. Default 1. */
  scale?: number;
  /** Length of an arrowhead's wings, as a fraction of the drawn arrow. Default 0.3. */
  headFraction?: number;
  /** Points drawn over the arrows, for example the training data. */
  points?: ArrayLike<number>[];
  /** Legend name of `points`. Default "data". */
  pointsName?: string;
  /** Legend name of the arrows. Default "vectors". */
  arrowsName?: string;
  xTitle?: string;
  yTitle?: string;
}

// Angle between each wing of an arrowhead and the reversed shaft, 25 degrees
const HEAD_ANGLE = (25 * Math.PI) / 180;

// Four decimals are far below a screen pixel and keep the figure's JSON small
const round = (value: number) => Math.round(value * 1e4) / 1e4;

function checkPairs(fn: string, argument: string, rows: unknown): ArrayLike<number>[] {
  if (!Array.isArray(rows)) invalid(fn, argument, "be an array of [x, y] pairs", rows);
  rows.forEach((row, i) => {
    const ok =
      row !== null &&
      typeof row === "object" &&
      (row as ArrayLike<number>).length === 2 &&
      Number.isFinite(row[0]) &&
      Number.isFinite(row[1]);
    if (!ok) invalid(fn, `${argument}[${i}]`, "be a pair of finite numbers", row);
  });
  return rows;
}

/**
 * Builds a quiver plot: one arrow from each origin along its vector, for vector fields
 * such as r(x) - x of a denoising autoencoder (notebook 05). All arrows share one
 * 'scatter' trace of line segments separated by nulls, seven points per arrow (shaft,
 * then both wings of the head), so the figure stays small. Both axes share one scale,
 * so directions are drawn true.
 */
export function quiverPlot(
  origins: ArrayLike<number>[],
  vectors: ArrayLike<number>[],
  options: QuiverOptions = {},
): Figure {
  const fn = "quiverPlot";
  checkPairs(fn, "origins", origins);
  if (origins.length === 0) invalid(fn, "origins", "be a non-empty array", origins);
  checkPairs(fn, "vectors", vectors);
  if (vectors.length !== origins.length) {
    invalid(fn, "vectors", `have one vector per origin (${origins.length})`, vectors);
  }
  const scale = checkFinite(fn, "scale", options.scale ?? 1);
  if (scale <= 0) invalid(fn, "scale", "be > 0", scale);
  const headFraction = checkFinite(fn, "headFraction", options.headFraction ?? 0.3);
  if (headFraction < 0 || headFraction > 1) {
    invalid(fn, "headFraction", "be in [0, 1]", headFraction);
  }
  if (options.points !== undefined) checkPairs(fn, "points", options.points);

  const xs: (number | null)[] = [];
  const ys: (number | null)[] = [];
  origins.forEach((origin, i) => {
    const dx = scale * vectors[i][0];
    const dy = scale * vectors[i][1];
    const tipX = origin[0] + dx;
    const tipY = origin[1] + dy;
    xs.push(round(origin[0]), round(tipX), null);
    ys.push(round(origin[1]), round(tipY), null);
    // Each wing is the reversed shaft, shortened and turned by +-HEAD_ANGLE
    const wing = (sign: number) => {
      const cos = Math.cos(sign * HEAD_ANGLE);
      const sin = Math.sin(sign * HEAD_ANGLE);
      return [
        tipX - headFraction * (cos * dx - sin * dy),
        tipY - headFraction * (sin * dx + cos * dy),
      ];
    };
    const [leftX, leftY] = wing(1);
    const [rightX, rightY] = wing(-1);
    xs.push(round(leftX), round(tipX), round(rightX), null);
    ys.push(round(leftY), round(tipY), round(rightY), null);
  });

  const data: Record<string, unknown>[] = [
    {
      type: "scatter",
      mode: "lines",
      name: options.arrowsName ?? "vectors",
      x: xs,
      y: ys,
      line: { width: 1.2, color: "#1f77b4" },
      hoverinfo: "skip",
    },
  ];
  // The points come last so they are drawn on top, where arrows cannot hide the data
  if (options.points !== undefined) {
    data.push({
      type: "scatter",
      mode: "markers",
      name: options.pointsName ?? "data",
      x: options.points.map((p) => round(p[0])),
      y: options.points.map((p) => round(p[1])),
      marker: { size: 4, opacity: 0.6, color: "#d62728" },
    });
  }

  const layout = baseLayout(options, 560, 560);
  layout.xaxis = { title: { text: options.xTitle ?? "" }, zeroline: false };
  layout.yaxis = {
    title: { text: options.yTitle ?? "" },
    zeroline: false,
    scaleanchor: "x",
    scaleratio: 1,
  };
  return { data, layout };
}
