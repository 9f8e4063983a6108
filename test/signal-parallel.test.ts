import assert from "node:assert/strict";
import { AekitError } from "../lib/src/core/errors";
import { makeRng } from "../lib/src/core/random";
import { convolve, correlate } from "../lib/src/signal/convolve";
import { convolve2d, correlate2d } from "../lib/src/signal/convolve2d";
import {
  parallelCallCount,
  SIGNAL_THREADS_ENV,
  signalThreads,
} from "../lib/src/signal/parallel";
import { matchTemplate } from "../lib/src/signal/template";
import { assertWithinPrecision } from "./helpers";

function randomSignal(length: number, seed: number): Float64Array {
  const rng = makeRng(seed);
  return Float64Array.from({ length }, () => rng() - 0.5);
}

function randomImage(rows: number, cols: number, seed: number): Float64Array[] {
  const rng = makeRng(seed);
  return Array.from({ length: rows }, () => Float64Array.from({ length: cols }, rng));
}

/** Runs `body` with SIGNAL_THREADS_ENV set to `threads`, then restores it. */
function withThreads<T>(threads: string | undefined, body: () => T): T {
  const previous = process.env[SIGNAL_THREADS_ENV];
  if (threads === undefined) delete process.env[SIGNAL_THREADS_ENV];
  else process.env[SIGNAL_THREADS_ENV] = threads;
  try {
    return body();
  } finally {
    if (previous === undefined) delete process.env[SIGNAL_THREADS_ENV];
    else process.env[SIGNAL_THREADS_ENV] = previous;
  }
}

/**
 * Runs `compute` on one thread and on `threads`, asserts that the second run was split
 * across workers, and returns both results.
 */
function onOneAndSplit<T>(threads: string, compute: () => T): { single: T; split: T } {
  const single = withThreads("1", compute);
  const before = parallelCallCount();
  const split = withThreads(threads, compute);
  assert.ok(parallelCallCount() > before, `no call was split with ${threads} threads`);
  return { single, split };
}

describe("signal functions on worker threads", function () {
  // The first split starts the workers, which load the kit's signal code
  this.timeout(60_000);

  const x = randomSignal(300_000, 1);
  const h = randomSignal(101, 2);

  for (const threads of ["2", "3"]) {
    for (const mode of ["full", "same", "valid"] as const) {
      it(`correlate, ${mode}, ${threads} threads, same as one`, () => {
        const { single, split } = onOneAndSplit(threads, () => correlate(x, h, mode));
        assert.deepEqual(split, single);
      });
    }
  }

  it("correlate beyond the kept buffers, same as one", () => {
    // 2^21 + 1000 samples: more than the shared buffers kept between calls
    const long = randomSignal(2 ** 21 + 1000, 5);
    const { single, split } = onOneAndSplit("2", () => correlate(long, h, "valid"));
    assert.deepEqual(split, single);
  });

  it("convolve on 2 threads matches the direct sum", () => {
    const signal = x.subarray(0, 200_000);
    const { split } = onOneAndSplit("2", () => convolve(signal, h, "same"));
    const direct = withThreads("1", () =>
      convolve(signal, h, "same", { method: "direct" }),
    );
    assertWithinPrecision(split, direct, "float64");
  });

  const image = randomImage(300, 280, 3);
  const kernel = randomImage(15, 13, 4);

  for (const threads of ["2", "4"]) {
    for (const mode of ["full", "valid"] as const) {
      it(`correlate2d, ${mode}, ${threads} threads, same as one`, () => {
        const { single, split } = onOneAndSplit(threads, () =>
          correlate2d(image, kernel, mode),
        );
        assert.deepEqual(split, single);
      });
    }
  }

  it("convolve2d on 2 threads matches the direct sum", () => {
    const { split } = onOneAndSplit("2", () => convolve2d(image, kernel, "same"));
    const direct = withThreads("1", () =>
      convolve2d(image, kernel, "same", { method: "direct" }),
    );
    assertWithinPrecision(split, direct, "float64");
  });

  it("matchTemplate on 2 threads, same as one", () => {
    const template = image.slice(40, 72).map((row) => row.slice(100, 132));
    const { single, split } = onOneAndSplit("2", () =>
      matchTemplate(image, template, "TM_CCOEFF_NORMED"),
    );
    assert.deepEqual(split, single);
  });

  it("keeps small inputs on one thread", () => {
    const before = parallelCallCount();
    withThreads("2", () => correlate(x.subarray(0, 1000), h, "valid"));
    assert.equal(parallelCallCount(), before);
  });

  it("reads the thread count from the environment", () => {
    assert.equal(
      withThreads("3", () => signalThreads()),
      3,
    );
    const byDefault = withThreads(undefined, () => signalThreads());
    assert.ok(byDefault >= 1, `default ${byDefault}`);
    assert.ok(byDefault <= 4, `default ${byDefault}`);
  });

  for (const setting of ["0", "-2", "two", "1.5", "65"]) {
    it(`rejects ${SIGNAL_THREADS_ENV}=${setting}`, () => {
      withThreads(setting, () => {
        assert.throws(
          () => correlate(x, h, "valid"),
          (err: unknown) =>
            err instanceof AekitError &&
            err.message.includes(
              `${SIGNAL_THREADS_ENV} must be a whole number from 1 to 64`,
            ) &&
            err.message.includes(JSON.stringify(setting)),
        );
      });
    });
  }
});
