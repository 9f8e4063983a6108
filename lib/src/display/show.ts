import * as fs from "node:fs";
import { lineChart } from "../figures/basic";
import type { Series } from "../figures/basic";
import type { Figure } from "../figures/types";
import type { EpochLogs } from "../train/fit";
import { formatEpochLogs } from "../train/fit";
import { renderPng } from "./static-image";
import { DisplayHandle, MimeBundle, displayBundle, inTslab } from "./tslab";

let plotlyIncluded = false;

/** Makes the next figure load plotly.js again; tests use it to start from a fresh kernel's state. */
export function resetPlotlyInclusion(): void {
  plotlyIncluded = false;
}

/**
 * Returns a bundle whose script defines window.Plotly, the first time in this kernel
 * process, and undefined after that. The library gets an output of its own, so that a
 * figure updated in place (a live training curve) never takes it away, and inlining it
 * once keeps the executed notebook and its HTML export working offline (about 4.8 MB).
 */
export function plotlyLibraryBundle(): MimeBundle | undefined {
  if (plotlyIncluded) return undefined;
  plotlyIncluded = true;
  const file = require.resolve("plotly.js-dist-min/plotly.min.js");
  // "</script" inside the library would end the tag early; plotly.min.js 3.7 has none
  const source = fs.readFileSync(file, "utf8").replace(/<\/script/gi, "<\\/script");
  return { "text/html": `<script type="text/javascript">${source}</script>` };
}

function loadPlotlyOnce(): void {
  if (!inTslab()) return;
  const library = plotlyLibraryBundle();
  if (library) displayBundle(library);
}

let figureCount = 0;

/** Significant digits kept for the numbers of a figure's data in the notebook's outputs. */
export const FIGURE_DIGITS = 4;

function roundValue(value: unknown): unknown {
  if (typeof value === "number") {
    return Number.isInteger(value) || !Number.isFinite(value)
      ? value
      : Number(value.toPrecision(FIGURE_DIGITS));
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number>, roundValue);
  }
  if (Array.isArray(value)) return value.map(roundValue);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, entry]) => [key, roundValue(entry)]),
    );
  }
  return value;
}

/**
 * Returns a copy of the figure's traces with every fractional number rounded to
 * FIGURE_DIGITS significant digits. A notebook stores each figure twice (plotly JSON and
 * HTML), and full float precision, invisible in a plot, made image grids about 2.5 times
 * larger.
 */
export function compactTraces(figure: Figure): Figure["data"] {
  return roundValue(figure.data) as Figure["data"];
}

/**
 * Builds the HTML of a figure with the traces `data`: a div that plotly.js draws into. The
 * static PNG, when given, sits inside the div, so viewers that strip scripts (GitHub, an
 * untrusted notebook in JupyterLab) still show the figure; the script removes it before
 * drawing.
 */
function figureHtml(figure: Figure, data: Figure["data"], png?: Buffer): string {
  const id = `aekit-figure-${process.pid}-${figureCount++}`;
  const fallback = png
    ? `<img class="aekit-static" alt="${escapeHtml(figureTitle(figure))}" src="data:image/png;base64,${png.toString("base64")}">`
    : "";
  const spec = JSON.stringify({
    data,
    layout: figure.layout,
  }).replace(/</g, "\\u003c");
  return (
    `<div id="${id}" class="aekit-figure">${fallback}</div>\n<script type="text/javascript">\n` +
    `(function () {\n  var spec = ${spec};\n` +
    `  var draw = function () {\n    var div = document.getElementById("${id}");\n` +
    `    div.innerHTML = "";\n    window.Plotly.newPlot(div, spec.data, spec.layout, ` +
    `{ responsive: false, displaylogo: false }); };\n` +
    `  if (window.Plotly) { draw(); } else { window.addEventListener("load", draw); }\n` +
    "})();\n</script>"
  );
}

function figureTitle(figure: Figure): string {
  const title = figure.layout.title as { text?: string } | undefined;
  return title?.text ?? "untitled";
}

/**
 * Builds the MIME bundle of a figure: plotly JSON (drawn by VS Code), HTML (JupyterLab and
 * the HTML export), a PNG when given (GitHub, nbviewer) and a text fallback.
 */
export function figureBundle(figure: Figure, png?: Buffer): MimeBundle {
  // Rounding every number of the traces is the costly part, so it is done once for both
  const data = compactTraces(figure);
  const bundle: MimeBundle = {
    "application/vnd.plotly.v1+json": { data, layout: figure.layout },
    "text/html": figureHtml(figure, data, png),
    "text/plain": `[figure: ${figureTitle(figure)}]`,
  };
  if (png) bundle["image/png"] = png.toString("base64");
  return bundle;
}

/**
 * Shows a figure in the notebook with a static PNG rendered in headless Chromium (see
 * renderPng); outside a notebook prints its title. Await it, so the image lands in the
 * cell that made the figure.
 */
export async function show(figure: Figure): Promise<void> {
  loadPlotlyOnce();
  const png = inTslab() ? await renderPng(figure) : undefined;
  displayBundle(figureBundle(figure, png));
}

/** A table as rows of named cells, or a danfojs DataFrame (anything with columns and values). */
export type TableInput =
  | Record<string, string | number | boolean | null>[]
  | { readonly columns: readonly string[]; readonly values: unknown };

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function formatCell(value: unknown): string {
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    return Math.abs(value) >= 1e4 || (Math.abs(value) < 1e-3 && value !== 0)
      ? value.toExponential(3)
      : value.toPrecision(4);
  }
  return String(value ?? "");
}

function tableCells(table: TableInput): { columns: string[]; rows: string[][] } {
  if (Array.isArray(table)) {
    const columns = [...new Set(table.flatMap((row) => Object.keys(row)))];
    return { columns, rows: table.map((row) => columns.map((c) => formatCell(row[c]))) };
  }
  const values = Array.isArray(table.values) ? (table.values as unknown[]) : [];
  return {
    columns: table.columns.map(String),
    rows: values.map((row) => (Array.isArray(row) ? row : [row]).map(formatCell)),
  };
}

/** Formats a table as aligned plain text. */
export function tableText(table: TableInput): string {
  const { columns, rows } = tableCells(table);
  const widths = columns.map((c, i) =>
    Math.max(c.length, ...rows.map((r) => r[i].length)),
  );
  const line = (cells: string[]) =>
    cells.map((cell, i) => cell.padEnd(widths[i])).join("  ");
  return [
    line(columns),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map(line),
  ].join("\n");
}

/** Shows a table as HTML in the notebook, with a plain-text fallback; prints it outside. */
export function showTable(table: TableInput): void {
  const { columns, rows } = tableCells(table);
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const body = rows
    .map((r) => `<tr>${r.map((cell) => `<td>${escapeHtml(cell)}</td>`).join("")}</tr>`)
    .join("\n");
  displayBundle({
    "text/html": `<table class="aekit-table">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`,
    "text/plain": tableText(table),
  });
}

/**
 * Returns an onEpochEnd callback that draws the loss curves of a training run in one output,
 * updated in place after every epoch: each training loss term, and the validation loss
 * dashed. The last update adds the static image. Outside a notebook it prints a line per epoch.
 */
export function trainingProgress(label = "training"): (logs: EpochLogs) => Promise<void> {
  const handle = new DisplayHandle();
  const history: EpochLogs[] = [];
  return async (logs) => {
    history.push(logs);
    if (!inTslab()) {
      console.log(`${label}: ${formatEpochLogs(logs)}`);
      return;
    }
    loadPlotlyOnce();
    const figure = progressFigure(label, history);
    const png = logs.epoch === logs.epochs ? await renderPng(figure) : undefined;
    handle.update(figureBundle(figure, png));
  };
}

/** Builds the live loss figure of trainingProgress from the epochs so far. */
export function progressFigure(label: string, history: EpochLogs[]): Figure {
  const last = history[history.length - 1];
  const names = Object.keys(last.terms);
  const series: Series[] = names.map((name) => ({
    name: names.length > 1 ? `training: ${name}` : "training",
    y: history.map((logs) => logs.terms[name]),
  }));
  if (names.length > 1)
    series.unshift({ name: "training: total", y: history.map((l) => l.loss) });
  if (last.valLoss !== undefined) {
    series.push({
      name: "validation",
      y: history.map((l) => l.valLoss ?? NaN),
      dash: "dash",
    });
  }
  const title = `${label}: epoch ${last.epoch}/${last.epochs}, loss ${last.loss.toPrecision(4)}`;
  return lineChart(series, {
    title,
    xTitle: "epoch",
    yTitle: "loss",
    logY: true,
    height: 320,
  });
}
