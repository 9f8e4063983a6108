/**
 * Executes the course notebooks headless on the tslab kernel, as CI does.
 *
 * Each notebook runs in its own Python process (execute_notebook.py), which
 * drives Jupyter's nbclient on a fresh kernel whose working directory is the
 * notebook's folder, as in JupyterLab. This script finds the notebooks, runs
 * them in parallel, prints a table and writes report.json beside the executed
 * copies. POSIX only, because it stops runs through process groups.
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
  findPython,
  jupyterEnv,
  NBCLIENT_PROBE,
  registerTslabKernel,
  repoRoot,
  type PythonProbe,
} from "./jupyter";

const EXECUTOR = path.join(__dirname, "execute_notebook.py");

const USAGE = `Usage: npm run notebooks -- [options]

Executes every notebook below --dir on the tslab kernel and writes the executed
copies, their HTML export and report.json to --out. Exits with status 1 when a
notebook fails, times out or kills its kernel, and when no notebook is found,
with 2 on invalid options and with 128 + the signal number when interrupted.
Cell numbers count every cell from 1, markdown cells included.

Options:
  --dir DIR               folder searched for *.ipynb, skipping dot folders such
                          as .ipynb_checkpoints (default: notebooks)
  --out DIR               folder for the outputs (default: build/notebooks)
  --only PATTERN          run only notebooks whose path below --dir contains PATTERN
  --jobs N                notebooks run in parallel (default: 2)
  --timeout SECONDS       limit for one notebook (default: 900)
  --cell-timeout SECONDS  limit for one cell (default: 300)
  -h, --help              print this help

Environment:
  AEKIT_PYTHON            Python interpreter that has nbclient and nbconvert`;

/** Seconds an executor gets beyond --timeout to shut its kernel down before it is killed. */
const BACKSTOP_GRACE_SECONDS = 30;
/** Milliseconds an executor gets to stop after SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;

type Status =
  "passed" | "failed" | "timed out" | "kernel died" | "interrupted" | "not run";

interface Options {
  dir: string;
  out: string;
  only: string | null;
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
}

interface CellError {
  /** Position of the cell in the notebook, counting from 1, or null when no cell ran. */
  cell: number | null;
  /** First non-blank line of the cell's source. */
  source: string | null;
  message: string;
}

interface NotebookResult {
  notebook: string;
  status: Status;
  seconds: number;
  executed: string | null;
  html: string | null;
  error: CellError | null;
}

/** The "result" line that execute_notebook.py prints. */
interface ExecutorResult {
  status: Status;
  cell: number | null;
  source: string | null;
  message: string | null;
  written?: boolean;
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

function parseOptions(argv: string[]): Options | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        dir: { type: "string", default: path.join(repoRoot, "notebooks") },
        out: { type: "string", default: path.join(repoRoot, "build", "notebooks") },
        only: { type: "string" },
        jobs: { type: "string", default: "2" },
        timeout: { type: "string", default: "900" },
        "cell-timeout": { type: "string", default: "300" },
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
  const options: Options = {
    dir: path.resolve(values.dir),
    out: path.resolve(values.out),
    only: values.only ?? null,
    jobs: parsePositiveInteger("jobs", values.jobs),
    timeoutSeconds: parsePositiveInteger("timeout", values.timeout),
    cellTimeoutSeconds: parsePositiveInteger("cell-timeout", values["cell-timeout"]),
  };
  if (options.out === options.dir) {
    throw new UsageError(
      "--out must differ from --dir, because the sources are never overwritten",
    );
  }
  return options;
}

/** Lists the notebooks below `dir` as sorted relative paths, skipping dot folders and `exclude`. */
function findNotebooks(dir: string, exclude: string): string[] {
  const found: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) {
        if (!entry.name.startsWith(".") && full !== exclude) {
          walk(full);
        }
      } else if (entry.isFile() && entry.name.endsWith(".ipynb")) {
        found.push(path.relative(dir, full).split(path.sep).join("/"));
      }
    }
  };
  walk(dir);
  return found.sort();
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
  // detached puts the executor in its own process group, so a Ctrl-C in the
  // terminal reaches only this script, which then stops the executors in order.
  const child = spawn(python, args, {
    cwd: repoRoot,
    env,
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
      resolve(toNotebookResult(job, seconds, result, running, exit, stderr));
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
    notebook: job.notebook,
    status,
    seconds: roundSeconds(seconds),
    executed: null,
    html: null,
    error: { cell: null, source: null, message },
  });
  if (result) {
    const written = result.written === true;
    return {
      notebook: job.notebook,
      status: result.status,
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
  const worker = async (): Promise<void> => {
    while (!stopSignal && next < jobs.length) {
      const index = next++;
      const result = await executeNotebook(jobs[index], options, python, env);
      results[index] = result;
      console.log(
        `${result.status.padEnd(11)} ${result.notebook} (${result.seconds.toFixed(1)} s)`,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.jobs, jobs.length) }, worker));

  return jobs.map(
    (job, index) =>
      results[index] ?? {
        notebook: job.notebook,
        status: "not run",
        seconds: 0,
        executed: null,
        html: null,
        error: null,
      },
  );
}

function shorten(text: string, limit: number): string {
  return text.length <= limit ? text : text.slice(0, limit - 1) + "…";
}

function formatTable(results: NotebookResult[]): string {
  const header = ["notebook", "status", "seconds", "first error"];
  const rows = results.map((result) => {
    const error = result.error;
    const where = error?.cell != null ? `cell ${error.cell}: ` : "";
    return {
      cells: [
        result.notebook,
        result.status,
        result.seconds.toFixed(1),
        error ? where + error.message : "",
      ],
      source: error?.source ? `source: ${shorten(error.source, 70)}` : null,
    };
  });
  const widths = [0, 1, 2].map((column) =>
    Math.max(header[column].length, ...rows.map((row) => row.cells[column].length)),
  );
  const formatRow = (cells: string[]): string =>
    [
      cells[0].padEnd(widths[0]),
      cells[1].padEnd(widths[1]),
      cells[2].padStart(widths[2]),
      cells[3],
    ]
      .join("  ")
      .trimEnd();
  const indent = " ".repeat(widths[0] + widths[1] + widths[2] + 6);

  const lines = [formatRow(header)];
  for (const row of rows) {
    lines.push(formatRow(row.cells));
    if (row.source) {
      lines.push(indent + row.source);
    }
  }
  return lines.join("\n");
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
    only === null ? notebooks : notebooks.filter((name) => name.includes(only));
  if (selected.length === 0) {
    console.error(
      `No notebook in ${displayPath(options.dir)} matches --only '${only}'. Notebooks:`,
    );
    console.error(notebooks.map((name) => `  ${name}`).join("\n"));
    return 1;
  }

  const search = findPython(NBCLIENT_PROBE);
  if (!search.found) {
    console.error(missingJupyterMessage(search));
    return 1;
  }
  const python: PythonProbe = search.found;
  registerTslabKernel();
  const env = jupyterEnv();

  const jobs: Job[] = selected.map((notebook) => ({
    notebook,
    source: path.join(options.dir, notebook),
    executed: path.join(options.out, notebook),
    html: path.join(options.out, notebook.replace(/\.ipynb$/, ".html")),
  }));
  process.on("SIGINT", stopAll);
  process.on("SIGTERM", stopAll);

  const { nbclient, nbconvert } = python.versions;
  const jobCount = Math.min(options.jobs, jobs.length);
  console.log(
    `Running ${jobs.length} notebook(s) from ${displayPath(options.dir)} ` +
      `with ${jobCount} job(s) on ${python.executable} ` +
      `(nbclient ${nbclient}, nbconvert ${nbconvert}).`,
  );
  console.log(
    `Timeouts: ${options.timeoutSeconds} s per notebook, ` +
      `${options.cellTimeoutSeconds} s per cell.`,
  );
  const startedAt = new Date();
  const started = performance.now();
  const results = await runAll(jobs, options, python.executable, env);
  const seconds = (performance.now() - started) / 1000;

  const counts = countStatuses(results);
  const reportPath = path.join(options.out, "report.json");
  const report = {
    startedAt: startedAt.toISOString(),
    seconds: roundSeconds(seconds),
    dir: displayPath(options.dir),
    only,
    jobs: options.jobs,
    timeoutSeconds: options.timeoutSeconds,
    cellTimeoutSeconds: options.cellTimeoutSeconds,
    python: python.executable,
    versions: python.versions,
    interrupted: stopSignal !== null,
    counts,
    notebooks: results,
  };
  writeFileAtomically(reportPath, JSON.stringify(report, null, 2) + "\n");

  console.log(`\n${formatTable(results)}\n`);
  const summary = Object.entries(counts)
    .map(([status, count]) => `${count} ${status}`)
    .join(", ");
  console.log(`${results.length} notebook(s): ${summary} in ${seconds.toFixed(1)} s.`);
  console.log(
    `Executed copies, HTML and report.json are in ${displayPath(options.out)}.`,
  );

  if (stopSignal) {
    return 128 + os.constants.signals[stopSignal];
  }
  return results.every((result) => result.status === "passed") ? 0 : 1;
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
