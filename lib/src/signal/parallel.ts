// Splits the FFT convolutions across worker threads. Each call stays synchronous: the
// calling thread computes the first part, then blocks on Atomics.wait until the workers
// have written theirs to shared memory. Parts start at block boundaries of the serial
// computation, so the result is the same, bit for bit, as on one thread.
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { AekitError } from "../core/errors";
import { convolve2dFft, convolveFft } from "./fft";
import type { Grid } from "./input";

/**
 * The environment variable that sets how many threads, the calling one included, the
 * FFT convolutions use; 1 turns the workers off. By default the kit uses every core
 * that Node reports, up to 4.
 */
export const SIGNAL_THREADS_ENV = "AEKIT_SIGNAL_THREADS";

// Below this estimated cost (in multiply-adds of the direct sum, see planBlocks) a call
// runs on one thread. A 1-D correlation of 1e6 samples with 101 taps is estimated at 1.6e7
// and took 21 ms on one thread of a 2-core Xeon. So 2e6 is about 2.5 ms of work, well
// above the cost of posting the jobs and copying the inputs.
const MIN_PARALLEL_COST = 2e6;
// A worker that has not finished its part after this long is taken as stuck: the calling
// thread computes the part itself and stops using the workers.
const WORKER_TIMEOUT_MS = 120_000;

// Values of a worker's status word; parallel-worker.ts writes DONE or 2 for a failure
const PENDING = 0;
const DONE = 1;

/** A part of a 1-D or 2-D FFT convolution, as posted to a worker. */
export type PartJob =
  | {
      kind: "1d";
      xLength: number;
      hLength: number;
      start: number;
      length: number;
      size: number;
    }
  | {
      kind: "2d";
      imageRows: number;
      imageCols: number;
      kernelRows: number;
      kernelCols: number;
      top: number;
      left: number;
      rows: number;
      cols: number;
      tileRows: number;
      tileCols: number;
    };

/** The message a worker receives: the job and the shared memory it reads and writes. */
export interface PartMessage {
  job: PartJob;
  /** The inputs, one after the other (x then h, or image then kernel). */
  input: SharedArrayBuffer;
  /** The worker's part of the output. */
  output: SharedArrayBuffer;
  /** One Int32 that the worker sets to DONE (1) or failed (2), then notifies. */
  status: SharedArrayBuffer;
}

interface PoolWorker {
  worker: Worker;
  status: Int32Array;
}

let pool: PoolWorker[] | null = null;
let disabled = false;
let parallelCalls = 0;

/**
 * Returns how many threads the FFT convolutions may use: SIGNAL_THREADS_ENV when it is
 * set, else the cores Node reports, up to 4. Throws an AekitError for an invalid setting.
 */
export function signalThreads(): number {
  const setting = process.env[SIGNAL_THREADS_ENV];
  if (setting === undefined || setting === "") {
    return Math.max(1, Math.min(4, os.availableParallelism()));
  }
  const threads = Number(setting);
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new AekitError(
      `${SIGNAL_THREADS_ENV} must be a whole number from 1 to 64, got ${JSON.stringify(setting)}; ` +
        "set it to 1 to turn the signal functions' worker threads off, or unset it",
    );
  }
  return threads;
}

/** Returns how many calls were split across threads in this process, for tests. */
export function parallelCallCount(): number {
  return parallelCalls;
}

/** Starts a worker on parallel-worker.js, or on its TypeScript source under tsx. */
function startWorker(): Worker {
  if (path.extname(__filename) !== ".ts") {
    return new Worker(path.join(__dirname, "parallel-worker.js"));
  }
  // A worker does not inherit tsx's hooks, so it registers them before loading the source
  const source = path.join(__dirname, "parallel-worker.ts");
  return new Worker(`require("tsx/cjs"); require(${JSON.stringify(source)});`, {
    eval: true,
  });
}

/** Returns the workers, started on first use, or null where none can run. */
function workers(): PoolWorker[] | null {
  if (disabled) return null;
  const workerCount = signalThreads() - 1;
  if (workerCount < 1) return null;
  if (pool === null || pool.length !== workerCount) {
    stopWorkers();
    try {
      pool = Array.from({ length: workerCount }, () => {
        const worker = startWorker();
        // Idle workers must not keep a script or a test run alive
        worker.unref();
        worker.on("error", (error) =>
          stopUsingWorkers(`a worker thread failed: ${error}`),
        );
        return { worker, status: new Int32Array(new SharedArrayBuffer(4)) };
      });
    } catch (error) {
      stopUsingWorkers(`the worker threads did not start: ${error}`);
    }
  }
  return pool;
}

function stopWorkers(): void {
  for (const { worker } of pool ?? []) void worker.terminate();
  pool = null;
}

/** Stops the workers for the rest of the process, and prints the reason once on stderr. */
function stopUsingWorkers(reason: string): void {
  if (!disabled) {
    console.warn(
      `aekit: ${reason}; the signal functions run on one thread from now on ` +
        `(set ${SIGNAL_THREADS_ENV}=1 to skip the workers)`,
    );
  }
  disabled = true;
  stopWorkers();
}

// Shared buffers kept between calls, because the operating system zeroes fresh memory
// page by page on first write, which cost more than the copies into it. Calls are
// synchronous, so no two use them at once. Buffers up to MAX_KEPT_VALUES float64 values
// (16 MB) are kept, so a 1e6-sample signal reuses its buffer and a huge one frees its own.
const MAX_KEPT_VALUES = 2 ** 21;
const keptBuffers = new Map<string, SharedArrayBuffer>();

/** Returns a shared buffer of at least `values` float64 values for `key`. */
function sharedBuffer(key: string, values: number): SharedArrayBuffer {
  const existing = keptBuffers.get(key);
  if (existing !== undefined && existing.byteLength >= 8 * values) return existing;
  const buffer = new SharedArrayBuffer(8 * values);
  if (values <= MAX_KEPT_VALUES) keptBuffers.set(key, buffer);
  return buffer;
}

/** Copies `arrays` one after the other into the kept input buffer. */
function shareInputs(arrays: readonly Float64Array[]): SharedArrayBuffer {
  const total = arrays.reduce((sum, array) => sum + array.length, 0);
  const buffer = sharedBuffer("input", total);
  const view = new Float64Array(buffer);
  let offset = 0;
  for (const array of arrays) {
    view.set(array, offset);
    offset += array.length;
  }
  return buffer;
}

/**
 * Posts `jobs` to the workers, runs `runFirst` on this thread, then waits for every
 * worker and returns each one's output, or null for a part this thread computed itself
 * because its worker failed or timed out.
 */
function runParts(
  team: PoolWorker[],
  jobs: readonly PartJob[],
  input: SharedArrayBuffer,
  outputLengths: readonly number[],
  runFirst: () => void,
): (Float64Array | null)[] {
  const outputs = outputLengths.map((length, i) => sharedBuffer(`output ${i}`, length));
  jobs.forEach((job, i) => {
    const { worker, status } = team[i];
    Atomics.store(status, 0, PENDING);
    const message: PartMessage = {
      job,
      input,
      output: outputs[i],
      status: status.buffer as SharedArrayBuffer,
    };
    worker.postMessage(message);
  });
  runFirst();
  return jobs.map((_, i) => {
    const { status } = team[i];
    const outcome = Atomics.wait(status, 0, PENDING, WORKER_TIMEOUT_MS);
    if (outcome === "timed-out" || Atomics.load(status, 0) !== DONE) {
      // A stuck worker may still write to this call's buffers later, which no one reads
      // once the workers are off.
      // NOTE: no test makes a worker fail or hang, so this branch is checked by reading only
      const what =
        outcome === "timed-out" ? `timed out after ${WORKER_TIMEOUT_MS} ms` : "failed";
      stopUsingWorkers(`a worker thread ${what} on its part of a convolution`);
      return null;
    }
    return new Float64Array(outputs[i], 0, outputLengths[i]);
  });
}

/**
 * Splits `count` items, in whole steps of `step`, into at most `parts` runs, and returns
 * where the second and later runs start. Where the steps do not divide evenly, the first
 * run, which the calling thread computes before its other work, gets the fewest.
 */
function splitPoints(count: number, step: number, parts: number): number[] {
  const steps = Math.ceil(count / step);
  if (steps < 2) return [];
  const used = Math.min(parts, steps);
  const base = Math.floor(steps / used);
  const extra = steps % used;
  const points: number[] = [];
  let first = 0;
  for (let part = 0; part < used - 1; part++) {
    // the last `extra` runs take one step more
    first += base + (part >= used - extra ? 1 : 0);
    points.push(first * step);
  }
  return points;
}

/**
 * Computes what `convolveFft` does, split across the workers when the estimated `cost`
 * is large enough. Each part starts at a pair of blocks, as the serial loop does.
 */
export function convolveFftParallel(
  x: Float64Array,
  h: Float64Array,
  start: number,
  length: number,
  size: number,
  cost: number,
): Float64Array {
  const team = cost >= MIN_PARALLEL_COST ? workers() : null;
  const points = team
    ? splitPoints(length, 2 * (size - h.length + 1), team.length + 1)
    : [];
  if (team === null || points.length === 0) return convolveFft(x, h, start, length, size);

  const bounds = [0, ...points, length];
  const jobs: PartJob[] = points.map((first, i) => ({
    kind: "1d",
    xLength: x.length,
    hLength: h.length,
    start: start + first,
    length: bounds[i + 2] - first,
    size,
  }));
  const out = new Float64Array(length);
  const parts = runParts(
    team,
    jobs,
    shareInputs([x, h]),
    jobs.map((job) => (job.kind === "1d" ? job.length : 0)),
    () => convolveFft(x, h, start, points[0], size, out.subarray(0, points[0])),
  );
  parallelCalls++;
  parts.forEach((part, i) => {
    const job = jobs[i] as Extract<PartJob, { kind: "1d" }>;
    const target = out.subarray(points[i], points[i] + job.length);
    if (part) target.set(part);
    else convolveFft(x, h, job.start, job.length, size, target);
  });
  return out;
}

/**
 * Computes what `convolve2dFft` does, split by output rows across the workers when the
 * estimated `cost` is large enough. Each part starts at a row of tiles. `meanwhile`, when
 * given, runs on the calling thread while the workers compute their parts.
 */
export function convolve2dFftParallel(
  image: Grid,
  kernel: Grid,
  top: number,
  left: number,
  rows: number,
  cols: number,
  tileRows: number,
  tileCols: number,
  cost: number,
  out?: Float64Array,
  meanwhile?: () => void,
): Grid {
  const team = cost >= MIN_PARALLEL_COST ? workers() : null;
  const stepRows = tileRows - kernel.rows + 1;
  const points = team ? splitPoints(rows, stepRows, team.length + 1) : [];
  if (team === null || points.length === 0) {
    const grid = convolve2dFft(
      image,
      kernel,
      top,
      left,
      rows,
      cols,
      tileRows,
      tileCols,
      out,
    );
    meanwhile?.();
    return grid;
  }

  const data = out ?? new Float64Array(rows * cols);
  const bounds = [0, ...points, rows];
  const jobs: PartJob[] = points.map((first, i) => ({
    kind: "2d",
    imageRows: image.rows,
    imageCols: image.cols,
    kernelRows: kernel.rows,
    kernelCols: kernel.cols,
    top: top + first,
    left,
    rows: bounds[i + 2] - first,
    cols,
    tileRows,
    tileCols,
  }));
  const firstRows = data.subarray(0, points[0] * cols);
  const parts = runParts(
    team,
    jobs,
    shareInputs([image.data, kernel.data]),
    jobs.map((job) => (job.kind === "2d" ? job.rows * cols : 0)),
    () => {
      convolve2dFft(
        image,
        kernel,
        top,
        left,
        points[0],
        cols,
        tileRows,
        tileCols,
        firstRows,
      );
      meanwhile?.();
    },
  );
  parallelCalls++;
  parts.forEach((part, i) => {
    const job = jobs[i] as Extract<PartJob, { kind: "2d" }>;
    const target = data.subarray(points[i] * cols, (points[i] + job.rows) * cols);
    if (part) target.set(part);
    else {
      convolve2dFft(
        image,
        kernel,
        job.top,
        left,
        job.rows,
        cols,
        tileRows,
        tileCols,
        target,
      );
    }
  });
  return { rows, cols, data };
}
