/**
 * Collects the metrics that notebooks record with aekit's recordMetric, checks
 * each value against its band and writes the course's metric tables.
 *
 * recordMetric appends one JSON line per metric to the file named by
 * AEKIT_METRICS_FILE, which run-notebooks.ts sets to a fresh file for each
 * notebook. The band is the one the notebook passes to recordMetric, so it sits
 * beside the claim it belongs to, and a notebook that needs other bands in full
 * mode chooses them with courseMode().
 */
import fs from "node:fs";

/**
 * 'drift' when the value lies outside its band, 'no band' when the notebook gave none,
 * 'claim failed' when the value comes from an assertClaim that did not hold.
 */
export type BandStatus = "ok" | "drift" | "no band" | "claim failed";

export interface MetricRow {
  notebook: string;
  name: string;
  value: number;
  unit: string;
  mode: string;
  /** [low, high], both included, or null. */
  band: [number, number] | null;
  /** The claim the value was asserted against, such as "< 0.025", or "" for a plain metric. */
  claim: string;
  status: BandStatus;
}

export interface MetricsFile {
  rows: MetricRow[];
  /** One message per line of the file that is not a metric record. */
  problems: string[];
}

function isBand(value: unknown): value is [number, number] {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    value.every((bound) => typeof bound === "number") &&
    value[0] <= value[1]
  );
}

interface Claim {
  comparison: string;
  bound: number | null;
  holds: boolean;
}

function isClaim(value: unknown): value is Claim {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const claim = value as Record<string, unknown>;
  return (
    typeof claim.comparison === "string" &&
    (typeof claim.bound === "number" || claim.bound === null) &&
    typeof claim.holds === "boolean"
  );
}

/** Formats a bound, printing null (JSON's form of an infinite number, sign lost) as "infinity". */
function formatBound(bound: number | null): string {
  return bound === null ? "infinity" : formatValue(bound);
}

export function bandStatus(value: number, band: [number, number] | null): BandStatus {
  if (!band) {
    return "no band";
  }
  return value >= band[0] && value <= band[1] ? "ok" : "drift";
}

/** Reads the metric records that `notebook` appended to `file`, which may not exist. */
export function readMetricsFile(file: string, notebook: string): MetricsFile {
  const rows: MetricRow[] = [];
  const problems: string[] = [];
  if (!fs.existsSync(file)) {
    return { rows, problems };
  }
  const lines = fs.readFileSync(file, "utf8").split("\n");
  lines.forEach((line, index) => {
    if (!line.trim()) {
      return;
    }
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line);
    } catch {
      problems.push(
        `${notebook}: metrics line ${index + 1} is not JSON: ${line.slice(0, 80)}`,
      );
      return;
    }
    const { name, value, unit, mode, band, claim } = record;
    if (typeof name !== "string" || typeof value !== "number") {
      problems.push(
        `${notebook}: metrics line ${index + 1} has no string name and number value: ` +
          line.slice(0, 80),
      );
      return;
    }
    const checkedBand = isBand(band) ? band : null;
    const checkedClaim = isClaim(claim) ? claim : null;
    rows.push({
      notebook,
      name,
      value,
      unit: typeof unit === "string" ? unit : "",
      mode: typeof mode === "string" ? mode : "",
      band: checkedBand,
      claim: checkedClaim
        ? `${checkedClaim.comparison} ${formatBound(checkedClaim.bound)}`
        : "",
      status:
        checkedClaim && !checkedClaim.holds
          ? "claim failed"
          : bandStatus(value, checkedBand),
    });
  });
  return { rows, problems };
}

/** Formats a value with 4 significant digits, as recordMetric prints it. */
export function formatValue(value: number): string {
  return String(Number(value.toPrecision(4)));
}

export function formatBand(band: [number, number] | null): string {
  return band ? `${formatValue(band[0])} to ${formatValue(band[1])}` : "";
}

/** Describes a metric and its band, such as "test MSE = 0.04 (band 0 to 0.025, fast mode)". */
export function describeDrift(row: MetricRow): string {
  const unit = row.unit ? ` ${row.unit}` : "";
  return (
    `${row.name} = ${formatValue(row.value)}${unit} ` +
    `(band ${formatBand(row.band)}, ${row.mode} mode)`
  );
}

const COLUMNS = [
  "notebook",
  "metric",
  "value",
  "unit",
  "claim",
  "band",
  "mode",
  "status",
];

function tableCells(row: MetricRow): string[] {
  return [
    row.notebook,
    row.name,
    formatValue(row.value),
    row.unit,
    row.claim,
    formatBand(row.band),
    row.mode,
    row.status,
  ];
}

/** Formats the rows as a Markdown page with one table across all notebooks. */
export function metricsMarkdown(
  rows: MetricRow[],
  mode: string,
  startedAt: Date,
): string {
  const escape = (text: string): string => text.replace(/\|/g, "\\|");
  const lines = [
    "# Course metrics",
    "",
    `Recorded by \`npm run notebooks\` in ${mode} mode, run started ${startedAt.toISOString()}.`,
    "",
  ];
  if (rows.length === 0) {
    lines.push("No notebook recorded a metric.");
  } else {
    lines.push(`| ${COLUMNS.join(" | ")} |`, `|${COLUMNS.map(() => "---").join("|")}|`);
    for (const row of rows) {
      lines.push(`| ${tableCells(row).map(escape).join(" | ")} |`);
    }
  }
  return lines.join("\n") + "\n";
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** Formats the rows as a standalone HTML page, with metrics outside their band marked. */
export function metricsHtml(rows: MetricRow[], mode: string, startedAt: Date): string {
  const header = COLUMNS.map((column) => `<th>${column}</th>`).join("");
  const body = rows
    .map((row) => {
      const cells = tableCells(row)
        .map((cell) => `<td>${escapeHtml(cell)}</td>`)
        .join("");
      const marked =
        row.status === "drift" || row.status === "claim failed" ? ' class="drift"' : "";
      return `<tr${marked}>${cells}</tr>`;
    })
    .join("\n");
  const table =
    rows.length === 0
      ? "<p>No notebook recorded a metric.</p>"
      : `<table>\n<thead><tr>${header}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Course metrics</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }
tr.drift td { background: #fde2e1; }
</style>
</head>
<body>
<h1>Course metrics</h1>
<p>Recorded by <code>npm run notebooks</code> in ${escapeHtml(mode)} mode,
run started ${startedAt.toISOString()}. Rows outside their band are marked.</p>
${table}
</body>
</html>
`;
}
