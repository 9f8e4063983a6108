/**
 * Executes the course notebooks headless on the tslab kernel, as CI does.
 *
 * This script finds the notebooks, applies --param overrides to the copies
 * that run, and type-checks all their code cells in one TypeScript program
 * (typecheck-notebooks.ts) before anything runs. Each notebook then runs in
 * its own Python process (execute_notebook.py), which drives Jupyter's nbclient
 * on a fresh kernel whose working directory is the notebook's folder, as in
 * JupyterLab. The runs go in parallel. At the end the script prints a table and
 * writes report.json and junit.xml beside the executed copies, and the metrics
 * that the notebooks recorded to metrics.json, metrics.md and metrics.html.
 * POSIX only, because it stops runs through process groups.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import readline from "node:readline";
import { parseArgs } from "node:util";

import {
  describeRejected,
  findNotebooks,
  findPython,
  jupyterEnv,
  NBCLIENT_PROBE,
  overrideParameters,
  readNotebook,
  registerTslabKernel,
  repoRoot,
  type NotebookDocument,
  type ParametersOverride,
  type PythonProbe,
} from "./jupyter";
import {
  describeDrift,
  metricsHtml,
  metricsMarkdown,
  readMetricsFile,
  type MetricRow,
} from "./metrics";
import type { CourseMode } from "../lib/src/core/course";
import { foldersOverlap, staysInside } from "./paths";
import {
  formatDiagnostic,
  formatSummary,
  typecheckNotebooks,
  type TypecheckResult,
} from "./typecheck-notebooks";

const EXECUTOR = path.join(__dirname, "execute_notebook.py");

/**
 * Default of --leak-threshold, in tensors. A model's weights count as tensors,
 * so the default leaves room for a small model that a notebook keeps to the end.
 */
const DEFAULT_LEAK_THRESHOLD = 50;

const USAGE = `Usage: npm run notebooks -- [options]

Type-checks the code cells of every notebook below --dir, then executes them on
the tslab kernel and writes the executed copies, their HTML export, report.json
and junit.xml to --out, and the recorded metrics to --metrics-out. Exits with
status 1 on a type error, when a notebook fails, times out or kills its kernel,
and when no notebook is found, with 2 on invalid options and with 128 + the
signal number when interrupted. Cell numbers count every cell from 1, markdown
cells included.

Options:
  --dir DIR               folder searched for *.ipynb, skipping dot folders such
                          as .ipynb_checkpoints (default: notebooks)
  --out DIR               folder for the executed notebooks and reports
                          (default: build/notebooks)
  --metrics-out DIR       folder for metrics.json, metrics.md and metrics.html
                          of the notebooks that ran (default: build)
  --only PATTERN          run only notebooks whose path below --dir contains
                          PATTERN; repeat it to run several
  --mode fast|full        sets AEKIT_MODE for the kernels (default: fast)
  --param NAME=VALUE      sets \`const NAME = VALUE;\` in the cell tagged
                          parameters of each notebook that runs; VALUE is a
                          TypeScript expression, such as 5, '"text"' or [1, 2].
                          Repeat it for more parameters.
  --strict-bands          fail a notebook whose metric lies outside its band
                          (default: print a warning)
  --fail-fast             start no more notebooks after the first failure
  --no-typecheck          skip the type-check before execution
  --leak-threshold N      report a cell as a possible tensor leak when the
                          tensor count stays more than N above its level
                          before the cell until the notebook ends
                          (default: ${DEFAULT_LEAK_THRESHOLD})
  --jobs N                notebooks run in parallel (default: 2)
  --timeout SECONDS       limit for one notebook (default: 900, 3600 with
                          --mode full)
  --cell-timeout SECONDS  limit for one cell (default: 300, 3000 with
                          --mode full)
  -h, --help              print this help

Environment:
  AEKIT_PYTHON            Python interpreter that has nbclient and nbconvert`;

/**
 * Default limits in seconds. Full mode trains notebook 03's 784-1000-500-250-30 network,
 * which took 28 minutes on 2 cores, its longest cell 20 minutes.
 */
const DEFAULT_TIMEOUTS: Record<CourseMode, { notebook: number; cell: number }> = {
  fast: { notebook: 900, cell: 300 },
  full: { notebook: 3600, cell: 3000 },
};

/** Seconds an executor gets beyond --timeout to shut its kernel down before it is killed. */
const BACKSTOP_GRACE_SECONDS = 30;
/** Milliseconds an executor gets to stop after SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;

type Status =
  | "passed"
  | "failed"
  | "timed out"
  | "kernel died"
  | "interrupted"
  | "type error"
  | "not run";

interface Options {
  dir: string;
  out: string;
  metricsOut: string;
  only: string[];
  mode: CourseMode;
  /** --param values by name, as TypeScript source. */
  parameters: Map<string, string>;
  strictBands: boolean;
  failFast: boolean;
  typecheck: boolean;
  leakThreshold: number;
  jobs: number;
  timeoutSeconds: number;
  cellTimeoutSeconds: number;
}

interface Job {
  /** Path below --dir, with forward slashes. */
  notebook: string;
  source: string;
  executed: string;
  html: string;
  /** The file the kernel's recordMetric appends to (AEKIT_METRICS_FILE). */
  metricsFile: string;
  /** The parsed notebook, or null when it cannot be read, which the executor then reports. */
  document: NotebookDocument | null;
  parameters: ParametersOverride | null;
}

interface CellError {
  /** Position of the cell in the notebook, counting from 1, or null when no cell ran. */
  cell: number | null;
  /** First non-blank line of the cell's source. */
  source: string | null;
  message: string;
}

/** Measurements of one code cell by execute_notebook.py. */
interface CellRecord {
  cell: number;
  status: "ok" | "raised" | "failed" | "aborted" | "skipped";
  seconds: number | null;
  /** Tensors allocated after the cell, or null when tfjs was not loaded or the probe failed. */
  tensors?: number | null;
}

/** A cell after which the tensor count stayed more than --leak-threshold higher to the end. */
interface PossibleLeak {
  cell: number;
  /** The lowest count from this cell to the end, less the count before the cell. */
  tensors: number;
}

interface NotebookResult {
  notebook: string;
  status: Status;
  seconds: number;
  executed: string | null;
  html: string | null;
  error: CellError | null;
  cells: CellRecord[];
  /** Tensors allocated after the last cell that ran, or null when tfjs was never loaded. */
  finalTensors: number | null;
  possibleLeaks: PossibleLeak[];
  /** Peak resident memory of the kernel process (VmHWM on Linux), or null when unknown. */
  kernelPeakRssBytes: number | null;
  metrics: MetricRow[];
}

/** The "result" line that execute_notebook.py prints. */
interface ExecutorResult {
  status: Status;
  cell: number | null;
  source: string | null;
  message: string | null;
  written?: boolean;
  cells?: CellRecord[];
  kernel_peak_rss_bytes?: number | null;
}

interface RunningNotebook {
  child: ChildProcess;
  kernelPid: number | null;
  /** Set when this script killed the executor, to the status the notebook gets. */
  killedAs: Status | null;
}

class UsageError extends Error {}

const runningNotebooks = new Set<RunningNotebook>();
let stopSignal: NodeJS.Signals | null = null;

function displayPath(target: string): string {
  const relative = path.relative(repoRoot, target);
  return relative.startsWith("..") || path.isAbsolute(relative)
    ? target
    : relative || ".";
}

function parsePositiveInteger(option: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) === 0) {
    throw new UsageError(
      `invalid --${option} value '${value}': expected a positive whole number`,
    );
  }
  return Number(value);
}

function parseParameters(values: string[]): Map<string, string> {
  const parameters = new Map<string, string>();
  for (const value of values) {
    const match = /^([A-Za-z_$][\w$]*)=(.*)$/s.exec(value);
    if (!match) {
      throw new UsageError(
        `invalid --param value '${value}': expected NAME=VALUE, such as epochs=2`,
      );
    }
    if (parameters.has(match[1])) {
      throw new UsageError(`--param ${match[1]} is given twice`);
    }
    parameters.set(match[1], match[2]);
  }
  return parameters;
}

function parseOptions(argv: string[]): Options | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        dir: { type: "string", default: path.join(repoRoot, "notebooks") },
        out: { type: "string", default: path.join(repoRoot, "build", "notebooks") },
        "metrics-out": { type: "string", default: path.join(repoRoot, "build") },
        only: { type: "string", multiple: true },
        mode: { type: "string", default: "fast" },
        param: { type: "string", multiple: true },
        "strict-bands": { type: "boolean", default: false },
        "fail-fast": { type: "boolean", default: false },
        "no-typecheck": { type: "boolean", default: false },
        "leak-threshold": { type: "string", default: String(DEFAULT_LEAK_THRESHOLD) },
        jobs: { type: "string", default: "2" },
        timeout: { type: "string" },
        "cell-timeout": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values;
  if (values.help) {
    return null;
  }
  const mode = values.mode;
  if (mode !== "fast" && mode !== "full") {
    throw new UsageError(`invalid --mode value '${mode}': expected fast or full`);
  }
  const leakThreshold = values["leak-threshold"];
  if (!/^\d+$/.test(leakThreshold)) {
    throw new UsageError(
      `invalid --leak-threshold value '${leakThreshold}': expected a whole number`,
    );
  }
  const options: Options = {
    dir: path.resolve(values.dir),
    out: path.resolve(values.out),
    metricsOut: path.resolve(values["metrics-out"]),
    only: values.only ?? [],
    mode,
    parameters: parseParameters(values.param ?? []),
    strictBands: values["strict-bands"],
    failFast: values["fail-fast"],
    typecheck: !values["no-typecheck"],
    leakThreshold: Number(leakThreshold),
    jobs: parsePositiveInteger("jobs", values.jobs),
    timeoutSeconds: parsePositiveInteger(
      "timeout",
      values.timeout ?? String(DEFAULT_TIMEOUTS[mode].notebook),
    ),
    cellTimeoutSeconds: parsePositiveInteger(
      "cell-timeout",
      values["cell-timeout"] ?? String(DEFAULT_TIMEOUTS[mode].cell),
    ),
  };
  if (options.out === options.dir) {
    throw new UsageError(
      "--out must differ from --dir, because the sources are never overwritten",
    );
  }
  const notebooksRoot = path.join(repoRoot, "notebooks");
  for (const [option, folder] of [
    ["--out", options.out],
    ["--metrics-out", options.metricsOut],
  ] as const) {
    if (foldersOverlap(folder, notebooksRoot)) {
      throw new UsageError(
        `${option} ${folder} overlaps the course notebooks in ${notebooksRoot} (one ` +
          "folder contains the other, possibly through a symbolic link), so the run could " +
          `overwrite them; choose an ${option} outside notebooks/, such as build/`,
      );
    }
  }
  if (staysInside(options.metricsOut, options.dir)) {
    throw new UsageError(
      `--metrics-out ${options.metricsOut} lies inside --dir ${options.dir}, so the ` +
        "metric tables would land among the sources; choose a folder outside --dir, such as build/",
    );
  }
  if (foldersOverlap(options.out, options.dir)) {
    throw new UsageError(
      `--out ${options.out} and --dir ${options.dir} overlap (one contains the other, ` +
        "possibly through a symbolic link), so executed copies could overwrite the sources " +
        "or be run as sources; choose an --out outside --dir, such as build/notebooks",
    );
  }
  return options;
}

function missingJupyterMessage(search: ReturnType<typeof findPython>): string {
  return `Jupyter's execution client (the Python packages nbclient and nbconvert) was not found.
Interpreters checked:
${describeRejected(search)}
Install it with one of:
  Debian or Ubuntu:  sudo apt-get update && sudo apt-get install jupyter-nbconvert python3-nbclient
  any python3:       python3 -m venv .venv && .venv/bin/pip install nbclient nbconvert
The runner finds /usr/bin/python3 and .venv/bin/python3 by itself. For another
interpreter, set AEKIT_PYTHON, e.g. AEKIT_PYTHON=/opt/jupyter/bin/python3 npm run notebooks`;
}

function killGroup(pid: number | null | undefined, signal: NodeJS.Signals): void {
  if (!pid) {
    return;
  }
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") {
      throw error;
    }
  }
}

/** Kills an executor and its kernel, which runs in a session of its own. */
function forceKill(running: RunningNotebook, status: Status): void {
  running.killedAs ??= status;
  killGroup(running.child.pid, "SIGKILL");
  killGroup(running.kernelPid, "SIGKILL");
}

/** Removes the temporary files that a killed executor may have left half written. */
function removeTemporaryFiles(job: Job, pid: number | undefined): void {
  for (const target of [job.executed, job.html]) {
    const temporary = path.join(
      path.dirname(target),
      `.${path.basename(target)}.${pid}.tmp`,
    );
    fs.rmSync(temporary, { force: true });
  }
}

function stopAll(signal: NodeJS.Signals): void {
  if (stopSignal) {
    return;
  }
  stopSignal = signal;
  console.error(
    `\n${signal} received: stopping ${runningNotebooks.size} running notebook(s).`,
  );
  for (const running of runningNotebooks) {
    running.child.kill("SIGTERM");
    setTimeout(() => forceKill(running, "interrupted"), STOP_GRACE_MS).unref();
  }
}

function executeNotebook(
  job: Job,
  options: Options,
  python: string,
  env: NodeJS.ProcessEnv,
): Promise<NotebookResult> {
  const started = performance.now();
  const args = [
    EXECUTOR,
    job.source,
    ...["--executed", job.executed, "--html", job.html],
    ...["--timeout", String(options.timeoutSeconds)],
    ...["--cell-timeout", String(options.cellTimeoutSeconds)],
  ];
  if (job.parameters) {
    args.push("--parameters-cell", String(job.parameters.cellIndex));
    args.push("--parameters-source", job.parameters.source);
  }
  // The kernel inherits the executor's environment (jupyter_client copies os.environ).
  const kernelEnv = {
    ...env,
    AEKIT_MODE: options.mode,
    AEKIT_METRICS_FILE: job.metricsFile,
  };
  // detached puts the executor in its own process group, so a Ctrl-C in the
  // terminal reaches only this script, which then stops the executors in order.
  const child = spawn(python, args, {
    cwd: repoRoot,
    env: kernelEnv,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const running: RunningNotebook = { child, kernelPid: null, killedAs: null };
  runningNotebooks.add(running);

  let result: ExecutorResult | null = null;
  let stderr = "";
  readline.createInterface({ input: child.stdout! }).on("line", (line) => {
    let event;
    try {
      event = JSON.parse(line);
    } catch {
      stderr += line + "\n";
      return;
    }
    if (event.event === "kernel") {
      running.kernelPid = event.pid;
    } else if (event.event === "result") {
      result = event as ExecutorResult;
    }
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  // The executor enforces --timeout itself; this kills it when it does not
  // manage to exit, for example because shutting the kernel down hangs.
  const backstop = setTimeout(
    () => forceKill(running, "timed out"),
    (options.timeoutSeconds + BACKSTOP_GRACE_SECONDS) * 1000,
  );

  return new Promise((resolve) => {
    let settled = false;
    const finish = (exit: string | null): void => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(backstop);
      runningNotebooks.delete(running);
      if (running.killedAs) {
        removeTemporaryFiles(job, child.pid);
      }
      // An executor that ended without a result did not shut its kernel down.
      if (!result) {
        killGroup(running.kernelPid, "SIGKILL");
      }
      const seconds = (performance.now() - started) / 1000;
      const notebookResult = toNotebookResult(
        job,
        seconds,
        result,
        running,
        exit,
        stderr,
      );
      resolve(addMeasurements(notebookResult, job, result, options));
    };
    child.on("error", (error) => finish(`could not start ${python}: ${error.message}`));
    child.on("close", (code, signal) =>
      finish(signal ? `signal ${signal}` : `exit status ${code}`),
    );
  });
}

function toNotebookResult(
  job: Job,
  seconds: number,
  result: ExecutorResult | null,
  running: RunningNotebook,
  exit: string | null,
  stderr: string,
): NotebookResult {
  const withoutOutputs = (status: Status, message: string): NotebookResult => ({
    ...emptyResult(job.notebook, status),
    seconds: roundSeconds(seconds),
    error: { cell: null, source: null, message },
  });
  if (result) {
    const written = result.written === true;
    return {
      ...emptyResult(job.notebook, result.status),
      seconds: roundSeconds(seconds),
      executed: written ? displayPath(job.executed) : null,
      html: written ? displayPath(job.html) : null,
      error:
        result.status === "passed"
          ? null
          : {
              cell: result.cell,
              source: result.source,
              message: result.message ?? result.status,
            },
    };
  }
  if (running.killedAs === "timed out") {
    return withoutOutputs(
      "timed out",
      "the executor did not stop after the notebook timeout and was killed",
    );
  }
  if (running.killedAs || stopSignal) {
    return withoutOutputs("interrupted", "the run was interrupted");
  }
  const lastLine = stderr.trim().split("\n").pop() ?? "";
  return withoutOutputs(
    "failed",
    `execute_notebook.py failed (${exit})${lastLine ? `: ${lastLine}` : ""}`,
  );
}

function emptyResult(notebook: string, status: Status): NotebookResult {
  return {
    notebook,
    status,
    seconds: 0,
    executed: null,
    html: null,
    error: null,
    cells: [],
    finalTensors: null,
    possibleLeaks: [],
    kernelPeakRssBytes: null,
    metrics: [],
  };
}

/**
 * Adds the cell times, tensor counts, peak memory and metrics to `result`. A
 * passed notebook with a metric outside its band fails under --strict-bands.
 */
function addMeasurements(
  result: NotebookResult,
  job: Job,
  executor: ExecutorResult | null,
  options: Options,
): NotebookResult {
  const cells = executor?.cells ?? [];
  const counts = cells.flatMap((cell) =>
    typeof cell.tensors === "number" ? [cell.tensors] : [],
  );
  const { rows, problems } = readMetricsFile(job.metricsFile, job.notebook);
  for (const problem of problems) {
    console.warn(`warning: ${problem}`);
  }
  const measured: NotebookResult = {
    ...result,
    cells,
    finalTensors: counts.length > 0 ? counts[counts.length - 1] : null,
    possibleLeaks:
      result.status === "passed" ? findPossibleLeaks(cells, options.leakThreshold) : [],
    kernelPeakRssBytes: executor?.kernel_peak_rss_bytes ?? null,
    metrics: rows,
  };
  const drifted = rows.filter((row) => row.status === "drift");
  if (options.strictBands && measured.status === "passed" && drifted.length > 0) {
    const more = drifted.length > 1 ? ` (and ${drifted.length - 1} more)` : "";
    measured.status = "failed";
    measured.error = {
      cell: null,
      source: null,
      message: `metric outside its band: ${describeDrift(drifted[0])}${more}`,
    };
  }
  return measured;
}

/**
 * Returns the cells after which the tensor count stayed more than `threshold`
 * above its level before the cell until the last cell. Tensors that a later
 * cell disposes are thus not held against a cell. The count does not say which
 * cell created a tensor, so the result is a hint: disposing older tensors in
 * the same cell hides new ones.
 */
function findPossibleLeaks(cells: CellRecord[], threshold: number): PossibleLeak[] {
  const counted = cells.filter((cell) => typeof cell.tensors === "number");
  const leaks: PossibleLeak[] = [];
  let before = 0;
  counted.forEach((cell, index) => {
    const lowestAfter = Math.min(...counted.slice(index).map((later) => later.tensors!));
    const kept = lowestAfter - before;
    if (kept > threshold) {
      leaks.push({ cell: cell.cell, tensors: kept });
    }
    before = cell.tensors!;
  });
  return leaks;
}

function roundSeconds(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

async function runAll(
  jobs: Job[],
  options: Options,
  python: string,
  env: NodeJS.ProcessEnv,
): Promise<NotebookResult[]> {
  const results: NotebookResult[] = [];
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!stopSignal && !(options.failFast && failed) && next < jobs.length) {
      const index = next++;
      const result = await executeNotebook(jobs[index], options, python, env);
      results[index] = result;
      failed ||= result.status !== "passed";
      console.log(
        `${result.status.padEnd(11)} ${result.notebook} (${result.seconds.toFixed(1)} s)`,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.jobs, jobs.length) }, worker));

  return jobs.map((job, index) => {
    if (results[index]) {
      return results[index];
    }
    const notRun = emptyResult(job.notebook, "not run");
    if (failed && options.failFast) {
      const message = "not run: --fail-fast stopped the run after a failure";
      notRun.error = { cell: null, source: null, message };
    }
    return notRun;
  });
}

function shorten(text: string, limit: number): string {
  return text.length <= limit ? text : text.slice(0, limit - 1) + "…";
}

function formatMebibytes(bytes: number | null): string {
  return bytes === null ? "-" : (bytes / 2 ** 20).toFixed(0);
}

function formatTable(results: NotebookResult[]): string {
  const header = ["notebook", "status", "seconds", "peak MiB", "tensors", "first error"];
  const rows = results.map((result) => {
    const error = result.error;
    const where = error?.cell != null ? `cell ${error.cell}: ` : "";
    const notes = result.possibleLeaks.map(
      (leak) =>
        `possible leak: the tensor count stayed ${leak.tensors} above its level ` +
        `before cell ${leak.cell} until the end`,
    );
    if (error?.source) {
      notes.unshift(`source: ${shorten(error.source, 70)}`);
    }
    return {
      cells: [
        result.notebook,
        result.status,
        result.seconds.toFixed(1),
        formatMebibytes(result.kernelPeakRssBytes),
        result.finalTensors === null ? "-" : String(result.finalTensors),
        error ? where + error.message : "",
      ],
      notes,
    };
  });
  const last = header.length - 1;
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row.cells[column].length)),
  );
  // Text columns are aligned left and numbers right; the last column is not padded.
  const formatRow = (cells: string[]): string =>
    cells
      .map((cell, column) => {
        if (column === last) {
          return cell;
        }
        return column < 2 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]);
      })
      .join("  ")
      .trimEnd();
  const indent = " ".repeat(
    widths.slice(0, last).reduce((sum, width) => sum + width + 2, 0),
  );

  const lines = [formatRow(header)];
  for (const row of rows) {
    lines.push(formatRow(row.cells));
    lines.push(...row.notes.map((note) => indent + note));
  }
  return lines.join("\n");
}

/** Escapes text for XML 1.0, dropping terminal colour codes and characters XML cannot hold. */
function escapeXml(text: string): string {
  return text
    .replace(/\x1b\[[0-9;]*[A-Za-z]/g, "")
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/**
 * Formats the results as JUnit XML with one testcase per notebook. A notebook
 * that did not pass gets a failure whose type is its status, and one that did
 * not run is skipped.
 */
function junitXml(
  results: NotebookResult[],
  dir: string,
  startedAt: Date,
  seconds: number,
): string {
  const skipped = (result: NotebookResult): boolean =>
    result.status === "not run" || result.status === "interrupted";
  const failures = results.filter(
    (result) => result.status !== "passed" && !skipped(result),
  );
  const cases = results.map((result) => {
    const folder = path.posix.join(
      dir.split(path.sep).join("/"),
      path.posix.dirname(result.notebook),
    );
    const classname = path.posix.normalize(folder).replace(/\//g, ".");
    const open =
      `  <testcase classname="${escapeXml(classname)}" name="${escapeXml(result.notebook)}" ` +
      `time="${result.seconds.toFixed(3)}"`;
    if (result.status === "passed") {
      return `${open}/>`;
    }
    const error = result.error;
    const where = error?.cell != null ? `cell ${error.cell}: ` : "";
    const message = where + (error?.message ?? result.status);
    if (skipped(result)) {
      return `${open}>\n    <skipped message="${escapeXml(message)}"/>\n  </testcase>`;
    }
    const body = error?.source ? `${message}\nsource: ${error.source}` : message;
    return (
      `${open}>\n    <failure type="${escapeXml(result.status)}" ` +
      `message="${escapeXml(message)}">${escapeXml(body)}</failure>\n  </testcase>`
    );
  });
  const counts =
    `tests="${results.length}" failures="${failures.length}" errors="0" ` +
    `skipped="${results.filter(skipped).length}" time="${seconds.toFixed(3)}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="notebooks" ${counts}>`,
    `<testsuite name="${escapeXml(dir)}" ${counts} timestamp="${startedAt.toISOString()}">`,
    ...cases,
    "</testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}

function writeFileAtomically(target: string, text: string): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const temporary = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.tmp`,
  );
  fs.writeFileSync(temporary, text);
  fs.renameSync(temporary, target);
}

function countStatuses(results: NotebookResult[]): Partial<Record<Status, number>> {
  const counts: Partial<Record<Status, number>> = {};
  for (const result of results) {
    counts[result.status] = (counts[result.status] ?? 0) + 1;
  }
  return counts;
}

/** Returns the notebook with its parameters cell replaced by the overridden source. */
function withParameters(job: Job): NotebookDocument | null {
  const { document, parameters } = job;
  if (!document || !parameters) {
    return document;
  }
  const cells = document.cells.map((cell, index) =>
    index === parameters.cellIndex ? { ...cell, source: parameters.source } : cell,
  );
  return { ...document, cells };
}

/** Builds the jobs, throwing an error that names the notebook when a --param does not apply. */
function createJobs(selected: string[], options: Options, metricsFolder: string): Job[] {
  return selected.map((notebook, index) => {
    const source = path.join(options.dir, notebook);
    let document: NotebookDocument | null = null;
    try {
      document = readNotebook(source);
    } catch {
      // The executor reports a notebook it cannot read as a failure of that notebook.
    }
    if (!document && options.parameters.size > 0) {
      throw new Error(
        `--param cannot be applied to ${notebook}: it is not a readable notebook`,
      );
    }
    const parameters =
      document && options.parameters.size > 0
        ? overrideParameters(notebook, document, options.parameters)
        : null;
    const executed = path.join(options.out, notebook);
    const html = path.join(options.out, notebook.replace(/\.ipynb$/, ".html"));
    for (const target of [executed, html]) {
      if (!staysInside(target, options.out)) {
        throw new Error(
          `${target} leads outside --out ${options.out} through a symbolic link, so ` +
            "writing it could overwrite another file; remove the link or choose another --out",
        );
      }
    }
    return {
      notebook,
      source,
      executed,
      html,
      metricsFile: path.join(metricsFolder, `${index}.jsonl`),
      document,
      parameters,
    };
  });
}

/** Type-checks the notebooks of `jobs` with their parameters applied, printing what it found. */
function typecheckJobs(jobs: Job[]): TypecheckResult {
  const notebooks = jobs.flatMap((job) => {
    const document = withParameters(job);
    return document ? [{ name: job.notebook, file: job.source, document }] : [];
  });
  const result = typecheckNotebooks(notebooks);
  for (const diagnostic of result.diagnostics) {
    console.log(formatDiagnostic(diagnostic));
  }
  console.log(formatSummary(result));
  return result;
}

/** Returns the results of a run that the type-check stopped before any notebook ran. */
function typeErrorResults(jobs: Job[], typecheck: TypecheckResult): NotebookResult[] {
  return jobs.map((job) => {
    const errors = typecheck.diagnostics.filter(
      (diagnostic) => diagnostic.notebook === job.notebook && !diagnostic.allowed,
    );
    if (errors.length === 0) {
      const result = emptyResult(job.notebook, "not run");
      result.error = {
        cell: null,
        source: null,
        message: "not run: the type-check failed",
      };
      return result;
    }
    const first = errors[0];
    const line = first.line !== null ? `line ${first.line}: ` : "";
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    const result = emptyResult(job.notebook, "type error");
    result.error = {
      cell: first.cell,
      source: first.sourceLine,
      message: `${line}${first.code}: ${first.message}${more}`,
    };
    return result;
  });
}

interface RunContext {
  options: Options;
  python: PythonProbe;
  startedAt: Date;
  seconds: number;
  typecheck: TypecheckResult | null;
}

/**
 * Writes report.json, junit.xml and the metric tables, prints the table and the
 * summary, and returns the exit status.
 */
function finishRun(results: NotebookResult[], context: RunContext): number {
  const { options, python, startedAt, seconds, typecheck } = context;
  const counts = countStatuses(results);
  const metrics = results.flatMap((result) => result.metrics);
  const report = {
    startedAt: startedAt.toISOString(),
    seconds: roundSeconds(seconds),
    dir: displayPath(options.dir),
    only: options.only.length > 0 ? options.only : null,
    mode: options.mode,
    parameters: Object.fromEntries(options.parameters),
    strictBands: options.strictBands,
    failFast: options.failFast,
    leakThreshold: options.leakThreshold,
    jobs: options.jobs,
    timeoutSeconds: options.timeoutSeconds,
    cellTimeoutSeconds: options.cellTimeoutSeconds,
    python: python.executable,
    versions: python.versions,
    typecheck: typecheck && {
      seconds: roundSeconds(typecheck.seconds),
      cells: typecheck.cellCount,
      errors: typecheck.errorCount,
      diagnostics: typecheck.diagnostics,
    },
    interrupted: stopSignal !== null,
    counts,
    notebooks: results,
  };
  writeFileAtomically(
    path.join(options.out, "report.json"),
    JSON.stringify(report, null, 2) + "\n",
  );
  const dir = displayPath(options.dir);
  writeFileAtomically(
    path.join(options.out, "junit.xml"),
    junitXml(results, dir, startedAt, seconds),
  );
  const metricsReport = {
    startedAt: startedAt.toISOString(),
    mode: options.mode,
    metrics,
  };
  writeFileAtomically(
    path.join(options.metricsOut, "metrics.json"),
    JSON.stringify(metricsReport, null, 2) + "\n",
  );
  writeFileAtomically(
    path.join(options.metricsOut, "metrics.md"),
    metricsMarkdown(metrics, options.mode, startedAt),
  );
  writeFileAtomically(
    path.join(options.metricsOut, "metrics.html"),
    metricsHtml(metrics, options.mode, startedAt),
  );

  console.log(`\n${formatTable(results)}\n`);
  const drifted = metrics.filter((row) => row.status === "drift");
  if (drifted.length > 0) {
    const consequence = options.strictBands
      ? "failures under --strict-bands"
      : "warnings; --strict-bands makes them failures";
    console.log(`Metrics outside their band (${consequence}):`);
    for (const row of drifted) {
      console.log(`  ${row.notebook}: ${describeDrift(row)}`);
    }
    console.log("");
  }
  const summary = Object.entries(counts)
    .map(([status, count]) => `${count} ${status}`)
    .join(", ");
  console.log(`${results.length} notebook(s): ${summary} in ${seconds.toFixed(1)} s.`);
  console.log(
    `${metrics.length} metric(s) recorded, ${drifted.length} outside their band; ` +
      `tables in ${displayPath(options.metricsOut)}/metrics.{json,md,html}.`,
  );
  console.log(
    `Executed copies, HTML, report.json and junit.xml are in ${displayPath(options.out)}.`,
  );

  if (stopSignal) {
    return 128 + os.constants.signals[stopSignal];
  }
  return results.every((result) => result.status === "passed") ? 0 : 1;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  if (!fs.existsSync(options.dir)) {
    console.error(`Notebook folder not found: ${displayPath(options.dir)}`);
    return 1;
  }
  const notebooks = findNotebooks(options.dir, options.out);
  if (notebooks.length === 0) {
    console.error(
      `No notebooks found in ${displayPath(options.dir)}, so nothing was checked.`,
    );
    return 1;
  }
  const only = options.only;
  const selected =
    only.length === 0
      ? notebooks
      : notebooks.filter((name) => only.some((pattern) => name.includes(pattern)));
  if (selected.length === 0) {
    const patterns = only.map((pattern) => `'${pattern}'`).join(", ");
    console.error(
      `No notebook in ${displayPath(options.dir)} matches --only ${patterns}. Notebooks:`,
    );
    console.error(notebooks.map((name) => `  ${name}`).join("\n"));
    return 1;
  }

  const metricsFolder = fs.mkdtempSync(path.join(os.tmpdir(), "aekit-metrics-"));
  try {
    let jobs: Job[];
    try {
      jobs = createJobs(selected, options, metricsFolder);
    } catch (error) {
      console.error((error as Error).message);
      return 2;
    }
    const search = findPython(NBCLIENT_PROBE);
    if (!search.found) {
      console.error(missingJupyterMessage(search));
      return 1;
    }
    return await runJobs(jobs, options, search.found);
  } finally {
    fs.rmSync(metricsFolder, { recursive: true, force: true });
  }
}

/** Type-checks the jobs unless --no-typecheck, runs them and reports the results. */
async function runJobs(
  jobs: Job[],
  options: Options,
  python: PythonProbe,
): Promise<number> {
  const startedAt = new Date();
  const started = performance.now();
  const context = (typecheck: TypecheckResult | null): RunContext => ({
    options,
    python,
    startedAt,
    seconds: (performance.now() - started) / 1000,
    typecheck,
  });
  if (options.parameters.size > 0) {
    const values = [...options.parameters].map(([name, value]) => `${name}=${value}`);
    console.log(`Parameters: ${values.join(", ")}.`);
  }
  let typecheck: TypecheckResult | null = null;
  if (options.typecheck) {
    typecheck = typecheckJobs(jobs);
    if (typecheck.errorCount > 0) {
      console.log("No notebook was run, because the type-check failed.");
      return finishRun(typeErrorResults(jobs, typecheck), context(typecheck));
    }
  } else {
    console.log("Type-check skipped (--no-typecheck).");
  }

  registerTslabKernel();
  const env = jupyterEnv();
  process.on("SIGINT", stopAll);
  process.on("SIGTERM", stopAll);
  const { nbclient, nbconvert } = python.versions;
  const jobCount = Math.min(options.jobs, jobs.length);
  console.log(
    `Running ${jobs.length} notebook(s) from ${displayPath(options.dir)} in ${options.mode} ` +
      `mode with ${jobCount} job(s) on ${python.executable} ` +
      `(nbclient ${nbclient}, nbconvert ${nbconvert}).`,
  );
  console.log(
    `Timeouts: ${options.timeoutSeconds} s per notebook, ` +
      `${options.cellTimeoutSeconds} s per cell.`,
  );
  const results = await runAll(jobs, options, python.executable, env);
  return finishRun(results, context(typecheck));
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      console.error(error);
      process.exitCode = 1;
    }
  },
);
