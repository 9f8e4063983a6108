/**
 * Times the kit's training, inference and signal workloads and prints a table, or with
 * --json one JSON object. With --reference it also runs scripts/bench_reference.py (the
 * same workloads in PyTorch, scipy and OpenCV) and prints the ratios of the two sides.
 *
 *   npm run bench -- [--json] [--quick] [--reference] [--course] [--tfjs-kernels]
 *                    [--only NAME]...
 *
 * Each workload runs in a child process of its own, so that its peak resident memory
 * (maxRSS) is its own and no workload inherits another's heap or wasm memory.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { getThreadsCount, version_wasm } from "@tensorflow/tfjs-backend-wasm";
import { KIT_KERNELS, tfjsKernelReplacedByKit } from "../lib/src/backend/kernels";
import { initBackend, type BackendName } from "../lib/src/backend/select";
import {
  FULL_SCHEDULE,
  QUICK_SCHEDULE,
  WORKLOAD_NAMES,
  runWorkload,
  type Schedule,
  type Unit,
  type WorkloadName,
} from "./bench-workloads";

const REPO_ROOT = path.resolve(__dirname, "..");
const REFERENCE_SCRIPT = path.join(REPO_ROOT, "scripts", "bench_reference.py");
/** Debian's python3, where apt installs python3-torch, python3-scipy and python3-opencv. */
const REFERENCE_PYTHON = "/usr/bin/python3";
const COURSE = "course";
const ALL_NAMES: readonly string[] = [...WORKLOAD_NAMES, COURSE];

const USAGE = `usage: npm run bench -- [options]

Times each workload after ${FULL_SCHEDULE.warmup} warm-up epochs (training) or calls, then
reports the median of ${FULL_SCHEDULE.repeats} timed repeats of ${FULL_SCHEDULE.steps} steps or calls each.

options:
  --json         print one JSON object on stdout; progress goes to stderr
                 (\`npm run --silent bench -- --json\` keeps npm's own lines off stdout)
  --only NAME    run only this workload (repeatable); NAME is one of
                 ${ALL_NAMES.slice(0, 4).join(", ")},
                 ${ALL_NAMES.slice(4).join(", ")}
  --quick        a few steps per workload, to check the harness (numbers mean little)
  --reference    also run ${path.relative(REPO_ROOT, REFERENCE_SCRIPT)} with ${REFERENCE_PYTHON}
                 and report kit/reference ratios
  --course       also time \`npm run notebooks\` (the whole course; slow)
  --tfjs-kernels run the workloads on TensorFlow.js's own kernels where the kit has
                 faster ones (its corrections stay), to measure what the kit gains
  --help         print this help`;

/** A command-line mistake, reported in one line with exit status 2 and no stack trace. */
class UsageError extends Error {}

interface Options {
  json: boolean;
  quick: boolean;
  reference: boolean;
  course: boolean;
  /** Puts back TensorFlow.js's kernels in place of the kit's faster ones. */
  tfjsKernels: boolean;
  only: string[];
  help: boolean;
  /** Internal: run this one workload in this process and send its result to the parent. */
  worker?: WorkloadName;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = {
    json: false,
    quick: false,
    reference: false,
    course: false,
    tfjsKernels: false,
    only: [],
    help: false,
  };
  const flags = ["json", "quick", "reference", "course", "help"] as const;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inlineValue] = arg.startsWith("--") ? arg.split(/=(.*)/s, 2) : [arg];
    const bare = flag.slice(2) as (typeof flags)[number];
    if (flag === "--tfjs-kernels" && inlineValue === undefined) {
      options.tfjsKernels = true;
      continue;
    }
    if (flags.includes(bare)) {
      if (inlineValue !== undefined) {
        throw new UsageError(`${flag} takes no value, got '${arg}'`);
      }
      options[bare] = true;
      continue;
    }
    if (flag !== "--only" && flag !== "--worker") {
      throw new UsageError(
        `unknown option '${arg}'; allowed: --json, --only NAME, --quick, --reference, ` +
          "--course, --tfjs-kernels, --help",
      );
    }
    const value = inlineValue ?? argv[++i];
    if (value === undefined || value.startsWith("--")) {
      throw new UsageError(
        `${flag} needs a workload name, one of ${ALL_NAMES.join(", ")}`,
      );
    }
    const allowed: readonly string[] = flag === "--only" ? ALL_NAMES : WORKLOAD_NAMES;
    if (!allowed.includes(value)) {
      throw new UsageError(
        `${flag} must name a workload, got '${value}'; allowed: ${allowed.join(", ")}`,
      );
    }
    if (flag === "--only") options.only.push(value);
    else options.worker = value as WorkloadName;
  }
  return options;
}

/** The measurement of one workload. */
interface BenchResult {
  value: number;
  unit: Unit;
  /** The value of each timed repeat; `value` is their median. */
  repeats: number[];
  /** Peak resident memory of the process that ran the workload, in MiB. */
  peakRssMiB: number | null;
  /** Only for the course: the exit status of `npm run notebooks`. */
  exitCode?: number | null;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const progress = (message: string) => process.stderr.write(`bench: ${message}\n`);

/**
 * Registers again, for `backend`, the TensorFlow.js kernels that the kit wrapped with
 * faster ones, and returns their names.
 */
function restoreTfjsKernels(backend: BackendName): string[] {
  const restored: string[] = [];
  for (const kernel of KIT_KERNELS) {
    if (!("wrap" in kernel) || kernel.backendName !== backend) continue;
    const original = tfjsKernelReplacedByKit(kernel.kernelName, backend);
    if (original === undefined) continue;
    tf.unregisterKernel(kernel.kernelName, backend);
    tf.registerKernel(original);
    restored.push(kernel.kernelName);
  }
  return restored;
}

/** Worker side: runs one workload and sends the result to the parent over IPC. */
async function runWorker(
  name: WorkloadName,
  schedule: Schedule,
  tfjsKernels: boolean,
): Promise<void> {
  const backend = await initBackend({ quiet: true });
  if (tfjsKernels) {
    const restored = restoreTfjsKernels(backend);
    progress(
      `${name}: TensorFlow.js's own ${restored.join(", ") || "kernels (none wrapped)"}`,
    );
  }
  const run = await runWorkload(name, schedule);
  const result: BenchResult = {
    value: median(run.repeats),
    unit: run.unit,
    repeats: run.repeats,
    // maxRSS is in kilobytes (KiB) on Linux
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  // The open IPC channel would keep this process alive, so close it once sent
  process.send?.(result, () => process.disconnect());
}

/**
 * Runs one workload in a fresh Node process with the same loader (tsx) as this one.
 * The child's stdout goes to stderr, so that --json keeps stdout for the JSON object.
 */
function runInChild(
  name: WorkloadName,
  quick: boolean,
  tfjsKernels: boolean,
): Promise<BenchResult> {
  const args = [...process.execArgv, __filename, "--worker", name];
  if (quick) args.push("--quick");
  if (tfjsKernels) args.push("--tfjs-kernels");
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  child.stdout?.pipe(process.stderr);
  return new Promise((resolve, reject) => {
    let result: BenchResult | undefined;
    child.on("message", (message) => {
      result = message as BenchResult;
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (result && code === 0) resolve(result);
      else
        reject(
          new Error(
            `workload ${name} failed in its child process ` +
              `(exit status ${code ?? "none"}, signal ${signal ?? "none"}); see its output above`,
          ),
        );
    });
  });
}

/** Reads the largest peak kernel memory from the run-notebooks report, in MiB. */
function coursePeakRssMiB(): number | null {
  const reportPath = path.join(REPO_ROOT, "build", "notebooks", "report.json");
  try {
    const report = JSON.parse(fs.readFileSync(reportPath, "utf8")) as {
      notebooks?: { kernelPeakRssBytes?: number | null }[];
    };
    const peaks = (report.notebooks ?? [])
      .map((entry) => entry.kernelPeakRssBytes)
      .filter((bytes): bytes is number => typeof bytes === "number");
    return peaks.length ? Math.max(...peaks) / 2 ** 20 : null;
  } catch {
    return null;
  }
}

/** Times `npm run notebooks`, whose output goes to stderr. */
function runCourse(): Promise<BenchResult> {
  const start = performance.now();
  const child = spawn("npm", ["run", "notebooks"], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  child.stdout?.pipe(process.stderr);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => {
      const seconds = (performance.now() - start) / 1000;
      if (code !== 0) progress(`npm run notebooks exited with status ${code}`);
      resolve({
        value: seconds,
        unit: "s",
        repeats: [seconds],
        // NOTE: this is the largest notebook kernel's peak, without the runner and Jupyter
        peakRssMiB: coursePeakRssMiB(),
        exitCode: code,
      });
    });
  });
}

/** The JSON object that scripts/bench_reference.py prints. */
interface ReferenceOutput {
  environment: {
    versions: Record<string, unknown>;
    loadAverage: { start: number[]; end: number[] };
    [key: string]: unknown;
  };
  results: Record<
    string,
    { value: number; unit: Unit; tool: string; peakRssMiB?: number }
  >;
  skipped: Record<string, string>;
}

/** Runs the reference script on one workload and returns its JSON object. */
function runReference(name: WorkloadName, quick: boolean): Promise<ReferenceOutput> {
  const args = [REFERENCE_SCRIPT, "--json", "--only", name];
  if (quick) args.push("--quick");
  const child = spawn(REFERENCE_PYTHON, args, {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stdout = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  return new Promise((resolve, reject) => {
    child.on("error", (error) =>
      reject(new Error(`failed to start ${REFERENCE_PYTHON}: ${error.message}`)),
    );
    child.on("exit", (code) => {
      if (code !== 0) {
        reject(
          new Error(
            `${REFERENCE_SCRIPT} failed with exit status ${code}; see its output above`,
          ),
        );
        return;
      }
      try {
        resolve(JSON.parse(stdout) as ReferenceOutput);
      } catch {
        reject(
          new Error(
            `${REFERENCE_SCRIPT} printed no JSON object: ${stdout.slice(0, 200)}`,
          ),
        );
      }
    });
  });
}

/** Adds the results of one reference run to those of the earlier ones. */
function mergeReference(
  merged: ReferenceOutput | null,
  output: ReferenceOutput,
): ReferenceOutput {
  if (!merged) return output;
  const versions = { ...merged.environment.versions, ...output.environment.versions };
  const loadAverage = {
    start: merged.environment.loadAverage.start,
    end: output.environment.loadAverage.end,
  };
  return {
    environment: { ...output.environment, versions, loadAverage },
    results: { ...merged.results, ...output.results },
    skipped: { ...merged.skipped, ...output.skipped },
  };
}

/** A pairing of a kit result with a reference result, and the goal for their ratio. */
interface ComparisonSpec {
  workload: WorkloadName;
  reference: string;
  /** The least (throughput) or largest (time) kit / reference that meets the goal, or null. */
  goal: number | null;
}

const COMPARISONS: readonly ComparisonSpec[] = [
  { workload: "dense-ae.train", reference: "dense-ae.train", goal: 0.5 },
  { workload: "conv-ae.train", reference: "conv-ae.train", goal: 0.5 },
  { workload: "contractive-ae.train", reference: "contractive-ae.train", goal: 0.5 },
  { workload: "dense-ae.infer", reference: "dense-ae.infer", goal: 0.5 },
  { workload: "correlate2d", reference: "correlate2d.fftconvolve", goal: 1.5 },
  { workload: "correlate2d", reference: "correlate2d", goal: null },
  { workload: "correlate", reference: "correlate", goal: 1.5 },
  { workload: "matchTemplate", reference: "matchTemplate", goal: 1.5 },
  { workload: "matchTemplate", reference: "matchTemplate.skimage", goal: null },
];

interface Comparison {
  workload: WorkloadName;
  reference: string;
  tool: string;
  unit: Unit;
  kit: number;
  referenceValue: number;
  /** kit / reference in their common unit, so throughput for samples/s and time for ms/call. */
  ratio: number;
  goal: string | null;
  met: boolean | null;
}

function compare(
  results: Record<string, BenchResult>,
  reference: ReferenceOutput,
): Comparison[] {
  const comparisons: Comparison[] = [];
  for (const spec of COMPARISONS) {
    const kit = results[spec.workload];
    const other = reference.results[spec.reference];
    if (!kit || !other) continue;
    const ratio = kit.value / other.value;
    const higherIsBetter = kit.unit === "samples/s";
    let goal: string | null = null;
    let met: boolean | null = null;
    if (spec.goal !== null) {
      goal = `${higherIsBetter ? ">=" : "<="} ${spec.goal}`;
      met = higherIsBetter ? ratio >= spec.goal : ratio <= spec.goal;
    }
    comparisons.push({
      workload: spec.workload,
      reference: spec.reference,
      tool: other.tool,
      unit: kit.unit,
      kit: kit.value,
      referenceValue: other.value,
      ratio,
      goal,
      met,
    });
  }
  return comparisons;
}

function threadsOf(backend: BackendName): number | null {
  if (backend === "wasm") return getThreadsCount();
  if (backend === "cpu") return 1;
  // the native backend's thread pools belong to libtensorflow, which reports no count
  return null;
}

function readVersion(packageJson: string): string {
  return (JSON.parse(fs.readFileSync(packageJson, "utf8")) as { version: string })
    .version;
}

function formatValue(value: number, unit: Unit): string {
  if (unit === "samples/s") return Math.round(value).toLocaleString("en-US");
  return value >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, column) =>
    Math.max(...rows.map((row) => row[column].length)),
  );
  for (const row of rows) {
    const cells = row.map((cell, column) => cell.padEnd(widths[column]));
    console.log(cells.join("  ").trimEnd());
  }
}

function selectedNames(options: Options): string[] {
  const names = options.only.length ? options.only : [...WORKLOAD_NAMES];
  if (options.course && !names.includes(COURSE)) names.push(COURSE);
  return ALL_NAMES.filter((name) => names.includes(name));
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const schedule = options.quick ? QUICK_SCHEDULE : FULL_SCHEDULE;
  if (options.worker) {
    await runWorker(options.worker, schedule, options.tfjsKernels);
    return;
  }

  const backend = await initBackend({ quiet: true });
  const names = selectedNames(options);
  const loadStart = os.loadavg();
  progress(
    `TensorFlow.js ${tf.version.tfjs} on '${backend}', ${os.cpus().length} CPUs, ` +
      `load average ${loadStart.map((load) => load.toFixed(2)).join(" ")}`,
  );

  // With --reference each kit workload is followed at once by its reference, so that the
  // two sides of a ratio share the machine's load as closely as they can
  const results: Record<string, BenchResult> = {};
  let reference: ReferenceOutput | null = null;
  for (const name of names) {
    progress(`running ${name}`);
    results[name] =
      name === COURSE
        ? await runCourse()
        : await runInChild(name as WorkloadName, options.quick, options.tfjsKernels);
    const { value, unit } = results[name];
    progress(`${name}: ${formatValue(value, unit)} ${unit}`);
    if (options.reference && name !== COURSE) {
      progress(`running the reference of ${name} with ${REFERENCE_PYTHON}`);
      const output = await runReference(name as WorkloadName, options.quick);
      reference = mergeReference(reference, output);
    }
  }
  const comparisons = reference ? compare(results, reference) : [];

  const environment = {
    backend,
    kernels: options.tfjsKernels ? "tfjs" : "kit",
    threads: threadsOf(backend),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    platform: `${os.platform()} ${os.release()}`,
    versions: {
      node: process.version,
      tfjs: tf.version.tfjs,
      "tfjs-backend-wasm": version_wasm,
      aekit: readVersion(path.join(REPO_ROOT, "lib", "package.json")),
    },
    schedule,
    loadAverage: { start: loadStart, end: os.loadavg() },
  };

  if (options.json) {
    const output = reference
      ? { environment, results, reference, comparisons }
      : { environment, results };
    process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
  } else {
    printResults(environment, results, comparisons, reference);
  }
  if (results[COURSE]?.exitCode) process.exitCode = 1;
}

function describeMet(met: boolean | null): string {
  if (met === null) return "-";
  return met ? "yes" : "no";
}

function printResults(
  environment: { backend: string; kernels: string; threads: number | null; cpus: number },
  results: Record<string, BenchResult>,
  comparisons: Comparison[],
  reference: ReferenceOutput | null,
): void {
  console.log(
    `aekit bench: backend '${environment.backend}' (${environment.threads ?? "?"} ` +
      `thread(s)), ${environment.kernels === "tfjs" ? "TensorFlow.js's own kernels, " : ""}` +
      `${environment.cpus} CPUs; median of the timed repeats`,
  );
  printTable([
    ["workload", "kit", "unit", "peak MiB"],
    ...Object.entries(results).map(([name, result]) => [
      name,
      formatValue(result.value, result.unit),
      result.unit,
      result.peakRssMiB === null ? "-" : result.peakRssMiB.toFixed(0),
    ]),
  ]);
  for (const [name, why] of Object.entries(reference?.skipped ?? {})) {
    console.log(`reference ${name} skipped: ${why}`);
  }
  if (!comparisons.length) return;
  console.log("\nkit against the reference (ratio = kit / reference)");
  printTable([
    ["workload", "reference tool", "kit", "reference", "unit", "ratio", "goal", "met"],
    ...comparisons.map((c) => [
      c.workload,
      c.tool,
      formatValue(c.kit, c.unit),
      formatValue(c.referenceValue, c.unit),
      c.unit,
      c.ratio.toFixed(2),
      c.goal ?? "-",
      describeMet(c.met),
    ]),
  ]);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(
      `bench: ${error.message}\n(npm run bench -- --help lists the options)\n`,
    );
    process.exitCode = 2;
    return;
  }
  process.stderr.write(
    `bench: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
});
