// The worker side of parallel.ts: computes one part of an FFT convolution from shared
// memory and reports through the status word.
import { parentPort } from "node:worker_threads";
import { convolve2dFft, convolveFft } from "./fft";
import type { PartMessage } from "./parallel";

const DONE = 1;
const FAILED = 2;

function runPart({ job, input, output }: PartMessage): void {
  const values = new Float64Array(input);
  // The buffers are kept between calls, so they may be longer than this job needs
  const outLength = job.kind === "1d" ? job.length : job.rows * job.cols;
  const out = new Float64Array(output, 0, outLength);
  if (job.kind === "1d") {
    const x = values.subarray(0, job.xLength);
    const h = values.subarray(job.xLength, job.xLength + job.hLength);
    convolveFft(x, h, job.start, job.length, job.size, out);
    return;
  }
  const imageSize = job.imageRows * job.imageCols;
  const image = {
    rows: job.imageRows,
    cols: job.imageCols,
    data: values.subarray(0, imageSize),
  };
  const kernel = {
    rows: job.kernelRows,
    cols: job.kernelCols,
    data: values.subarray(imageSize, imageSize + job.kernelRows * job.kernelCols),
  };
  convolve2dFft(
    image,
    kernel,
    job.top,
    job.left,
    job.rows,
    job.cols,
    job.tileRows,
    job.tileCols,
    out,
  );
}

parentPort?.on("message", (message: PartMessage) => {
  const status = new Int32Array(message.status);
  try {
    runPart(message);
    Atomics.store(status, 0, DONE);
  } catch (error) {
    // The calling thread computes this part itself and stops using the workers
    console.error(
      `aekit signal worker: ${error instanceof Error ? error.stack : String(error)}`,
    );
    Atomics.store(status, 0, FAILED);
  }
  Atomics.notify(status, 0);
});
