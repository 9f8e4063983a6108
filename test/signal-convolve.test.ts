import * as assert from "node:assert/strict";
import { makeRng, randomNormal } from "../lib/src/core/random";
import { convolve, correlate, correlationLags } from "../lib/src/signal";
import type { ConvolveMethod, ConvolveMode } from "../lib/src/signal";
import { assertClose, FLOAT64_TOLERANCE } from "./helpers";

// Reference values from test/oracles/signal_oracles.py (numpy 1.24, SciPy 1.10).
// Signals: x5 (odd length) and x6 (even); kernels of length 1, 2, 3, 4 and 7, the last
// longer than both signals.
const SIGNALS: Record<string, number[]> = {
  x5: [2, -1, 3, 0, 4],
  x6: [3, -1, 4, 1, -5, 9],
};
const KERNELS: Record<string, number[]> = {
  h1: [3],
  h2: [1, -2],
  h3: [2, 0, -1],
  h4: [1, 2, -1, 3],
  h7: [1, -1, 2, -2, 3, -3, 4],
};

const SCIPY_1D: Record<
  string,
  Record<ConvolveMode, { convolve: number[]; correlate: number[] }>
> = {
  "x5,h1": {
    full: { convolve: [6, -3, 9, 0, 12], correlate: [6, -3, 9, 0, 12] },
    same: { convolve: [6, -3, 9, 0, 12], correlate: [6, -3, 9, 0, 12] },
    valid: { convolve: [6, -3, 9, 0, 12], correlate: [6, -3, 9, 0, 12] },
  },
  "x5,h2": {
    full: { convolve: [2, -5, 5, -6, 4, -8], correlate: [-4, 4, -7, 3, -8, 4] },
    same: { convolve: [2, -5, 5, -6, 4], correlate: [-4, 4, -7, 3, -8] },
    valid: { convolve: [-5, 5, -6, 4], correlate: [4, -7, 3, -8] },
  },
  "x5,h3": {
    full: { convolve: [4, -2, 4, 1, 5, 0, -4], correlate: [-2, 1, 1, -2, 2, 0, 8] },
    same: { convolve: [-2, 4, 1, 5, 0], correlate: [1, 1, -2, 2, 0] },
    valid: { convolve: [4, 1, 5], correlate: [1, -2, 2] },
  },
  "x5,h4": {
    full: {
      convolve: [2, 3, -1, 13, -2, 17, -4, 12],
      correlate: [6, -5, 14, -3, 17, -1, 8, 4],
    },
    same: { convolve: [3, -1, 13, -2, 17], correlate: [-5, 14, -3, 17, -1] },
    valid: { convolve: [13, -2], correlate: [-3, 17] },
  },
  "x5,h7": {
    full: {
      convolve: [2, -3, 8, -9, 18, -19, 28, -21, 24, -12, 16],
      correlate: [8, -10, 21, -16, 31, -22, 21, -12, 11, -4, 4],
    },
    same: { convolve: [-9, 18, -19, 28, -21], correlate: [-16, 31, -22, 21, -12] },
    valid: { convolve: [18, -19, 28], correlate: [31, -22, 21] },
  },
  "x6,h1": {
    full: { convolve: [9, -3, 12, 3, -15, 27], correlate: [9, -3, 12, 3, -15, 27] },
    same: { convolve: [9, -3, 12, 3, -15, 27], correlate: [9, -3, 12, 3, -15, 27] },
    valid: { convolve: [9, -3, 12, 3, -15, 27], correlate: [9, -3, 12, 3, -15, 27] },
  },
  "x6,h2": {
    full: {
      convolve: [3, -7, 6, -7, -7, 19, -18],
      correlate: [-6, 5, -9, 2, 11, -23, 9],
    },
    same: { convolve: [3, -7, 6, -7, -7, 19], correlate: [-6, 5, -9, 2, 11, -23] },
    valid: { convolve: [-7, 6, -7, -7, 19], correlate: [5, -9, 2, 11, -23] },
  },
  "x6,h3": {
    full: {
      convolve: [6, -2, 5, 3, -14, 17, 5, -9],
      correlate: [-3, 1, 2, -3, 13, -7, -10, 18],
    },
    same: { convolve: [-2, 5, 3, -14, 17, 5], correlate: [1, 2, -3, 13, -7, -10] },
    valid: { convolve: [5, 3, -14, 17], correlate: [2, -3, 13, -7] },
  },
  "x6,h4": {
    full: {
      convolve: [3, 5, -1, 19, -10, 10, 26, -24, 27],
      correlate: [9, -6, 19, 0, -9, 38, -18, 13, 9],
    },
    same: { convolve: [5, -1, 19, -10, 10, 26], correlate: [-6, 19, 0, -9, 38, -18] },
    valid: { convolve: [19, -10, 10], correlate: [0, -9, 38] },
  },
  "x6,h7": {
    full: {
      convolve: [3, -4, 11, -11, 13, -4, 6, 15, -20, 46, -47, 36],
      correlate: [12, -13, 28, -17, -3, 41, -32, 34, -25, 24, -14, 9],
    },
    same: { convolve: [-11, 13, -4, 6, 15, -20], correlate: [-17, -3, 41, -32, 34, -25] },
    valid: { convolve: [-4, 6], correlate: [41, -32] },
  },
};

const SCIPY_LAGS: Record<string, number[]> = {
  "5,3,full": [-2, -1, 0, 1, 2, 3, 4],
  "5,3,same": [-1, 0, 1, 2, 3],
  "5,3,valid": [0, 1, 2],
  "6,4,full": [-3, -2, -1, 0, 1, 2, 3, 4, 5],
  "6,4,same": [-2, -1, 0, 1, 2, 3],
  "6,4,valid": [0, 1, 2],
  "5,4,full": [-3, -2, -1, 0, 1, 2, 3, 4],
  "5,4,same": [-1, 0, 1, 2, 3],
  "5,4,valid": [0, 1],
  "3,2,full": [-1, 0, 1, 2],
  "3,2,same": [0, 1, 2],
  "3,2,valid": [0, 1],
  "3,7,full": [-6, -5, -4, -3, -2, -1, 0, 1, 2],
  "3,7,same": [-3, -2, -1],
  "3,7,valid": [-4, -3, -2, -1, 0],
  "6,7,full": [-6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5],
  "6,7,same": [-3, -2, -1, 0, 1, 2],
  "6,7,valid": [-1, 0],
  "1,1,full": [0],
  "1,1,same": [0],
  "1,1,valid": [0],
};

const MODES: readonly ConvolveMode[] = ["full", "same", "valid"];
const COMPUTING: readonly ConvolveMethod[] = ["direct", "fft", "auto"];

function randomSignal(length: number, seed: number): Float64Array {
  const rng = makeRng(seed);
  return Float64Array.from({ length }, () => randomNormal(rng));
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Asserts agreement within `tolerance` times the largest |expected|, as for FFT output. */
function assertCloseToScale(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  label: string,
) {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++)
    scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= FLOAT64_TOLERANCE * Math.max(scale, 1),
      `${label}[${i}] = ${actual[i]}, expected ${expected[i]}`,
    );
  }
}

describe("convolve and correlate against scipy", () => {
  for (const [pair, byMode] of Object.entries(SCIPY_1D)) {
    const [xName, hName] = pair.split(",");
    for (const mode of MODES) {
      for (const method of COMPUTING) {
        it(`${pair}, mode=${mode}, method=${method}`, () => {
          const x = SIGNALS[xName];
          const h = KERNELS[hName];
          const expected = byMode[mode];
          assertClose(
            convolve(x, h, mode, { method }),
            expected.convolve,
            FLOAT64_TOLERANCE,
          );
          assertClose(
            correlate(x, h, mode, { method }),
            expected.correlate,
            FLOAT64_TOLERANCE,
          );
        });
      }
    }
  }

  it("convolve matches hand arithmetic", () => {
    // y[i] = sum_k h[k] x[i - k] with x = [1, 2, 3], h = [0, 1, 0.5]
    const expected = [
      1 * 0,
      2 * 0 + 1 * 1,
      3 * 0 + 2 * 1 + 1 * 0.5,
      3 * 1 + 2 * 0.5,
      3 * 0.5,
    ];
    assert.deepEqual(convolve([1, 2, 3], [0, 1, 0.5]), expected);
  });

  it("correlate matches hand arithmetic", () => {
    // z[k] = sum_n x[n + k] h[n] for k = -2 .. 2
    const expected = [
      1 * 0.5,
      1 * 1 + 2 * 0.5,
      1 * 0 + 2 * 1 + 3 * 0.5,
      2 * 0 + 3 * 1,
      3 * 0,
    ];
    assert.deepEqual(correlate([1, 2, 3], [0, 1, 0.5]), expected);
  });

  it("correlate equals convolve with the kernel reversed", () => {
    const x = randomSignal(40, 1);
    const h = randomSignal(9, 2);
    const reversed = Float64Array.from(h).reverse();
    for (const mode of MODES) {
      assertCloseToScale(correlate(x, h, mode), convolve(x, reversed, mode), mode);
    }
  });

  it("defaults to mode 'full'", () => {
    assert.deepEqual(convolve([1, 2], [1, 1]), convolve([1, 2], [1, 1], "full"));
    assert.deepEqual(correlate([1, 2], [1, 1]), correlate([1, 2], [1, 1], "full"));
  });
});

describe("convolve output sizes", () => {
  for (const n of [1, 4, 5]) {
    for (const m of [1, 2, 3, 6, 7]) {
      it(`n=${n}, m=${m}`, () => {
        const x = new Array<number>(n).fill(1);
        const h = new Array<number>(m).fill(1);
        assert.equal(convolve(x, h, "full").length, n + m - 1);
        assert.equal(convolve(x, h, "same").length, n);
        assert.equal(convolve(x, h, "valid").length, Math.abs(n - m) + 1);
        assert.equal(correlate(x, h, "same").length, n);
        assert.equal(correlate(x, h, "valid").length, Math.abs(n - m) + 1);
      });
    }
  }
});

describe("convolve output types", () => {
  it("returns an Array for an Array", () => {
    assert.ok(Array.isArray(convolve([1, 2], new Float64Array([1]))));
  });

  it("returns a Float32Array for a Float32Array", () => {
    const y = correlate(new Float32Array([1, 2, 3]), [1, 1]);
    assert.ok(y instanceof Float32Array);
    assert.deepEqual(Array.from(y), [1, 3, 5, 3]);
  });

  it("returns a Float64Array for other typed arrays", () => {
    const y = convolve(new Int16Array([1, 2, 3]), [0.5]);
    assert.ok(y instanceof Float64Array);
    assert.deepEqual(Array.from(y), [0.5, 1, 1.5]);
  });

  it("leaves its inputs unchanged", () => {
    const x = [1, 2, 3];
    const h = new Float64Array([1, -1]);
    correlate(x, h, "full", { method: "fft" });
    assert.deepEqual(x, [1, 2, 3]);
    assert.deepEqual(Array.from(h), [1, -1]);
  });

  it("leaves Float64Array inputs unchanged", () => {
    // Float64Array inputs are read in place, not copied
    const x = new Float64Array([1, 2, 3, 4]);
    const h = new Float64Array([1, -1]);
    for (const method of COMPUTING) {
      const convolved = convolve(x, h, "full", { method });
      const correlated = correlate(x, h, "full", { method });
      assert.notEqual(convolved, x, `${method}: convolve returned x itself`);
      assert.notEqual(correlated, x, `${method}: correlate returned x itself`);
      assert.deepEqual(Array.from(x), [1, 2, 3, 4], `${method}: x`);
      assert.deepEqual(Array.from(h), [1, -1], `${method}: h`);
    }
  });
});

describe("convolve direct against FFT", () => {
  const sizes: [number, number][] = [
    [1, 1],
    [2, 7],
    [7, 2],
    [64, 64],
    [1000, 5],
    [1000, 301],
    [5000, 64],
    [301, 1000],
    [20000, 31],
  ];
  for (const [n, m] of sizes) {
    for (const mode of MODES) {
      it(`n=${n}, m=${m}, mode=${mode}`, () => {
        const x = randomSignal(n, n);
        const h = randomSignal(m, m + 1);
        const direct = convolve(x, h, mode, { method: "direct" });
        assertCloseToScale(convolve(x, h, mode, { method: "fft" }), direct, "convolve");
        const correlated = correlate(x, h, mode, { method: "direct" });
        assertCloseToScale(
          correlate(x, h, mode, { method: "fft" }),
          correlated,
          "correlate",
        );
        assertCloseToScale(correlate(x, h, mode), correlated, "correlate auto");
      });
    }
  }
});

describe("correlationLags", () => {
  // scipy 1.10's correlation_lags is one too large for 'same' with an odd n1 and an even
  // n2; these cases are checked against correlate's output below instead
  const SCIPY_SAME_OFF_BY_ONE = ["5,4,same", "3,2,same"];

  for (const [key, expected] of Object.entries(SCIPY_LAGS)) {
    if (SCIPY_SAME_OFF_BY_ONE.includes(key)) continue;
    it(`matches scipy for n1,n2,mode = ${key}`, () => {
      const [n1, n2, mode] = key.split(",");
      assert.deepEqual(
        correlationLags(Number(n1), Number(n2), mode as ConvolveMode),
        expected,
      );
    });
  }

  it("places lag 0 for odd n1, even n2", () => {
    // correlate(x5, h4, 'same') is [-5, 14, -3, 17, -1], and lag 0 is
    // 2*1 + (-1)*2 + 3*(-1) + 0*3 = -3, at index 2
    const z = correlate(SIGNALS.x5, KERNELS.h4, "same");
    assert.equal(z[2], 2 * 1 + -1 * 2 + 3 * -1 + 0 * 3);
    assert.deepEqual(correlationLags(5, 4, "same"), [-2, -1, 0, 1, 2]);
    // scipy's correlation_lags(5, 4, 'same') has lag 0 at index 1
    assert.deepEqual(SCIPY_LAGS["5,4,same"], [-1, 0, 1, 2, 3]);
  });

  it("differs from scipy for n1 = 3, n2 = 2", () => {
    // correlate([a, b, c], [p, q], 'same') = [a q, a p + b q, b p + c q]: lags -1, 0, 1
    assert.deepEqual(correlate([1, 10, 100], [1, 2], "same"), [2, 21, 210]);
    assert.deepEqual(correlationLags(3, 2, "same"), [-1, 0, 1]);
    assert.deepEqual(SCIPY_LAGS["3,2,same"], [0, 1, 2]);
  });

  it("has one lag per output sample in every mode", () => {
    for (const [n1, n2] of [
      [5, 3],
      [6, 4],
      [3, 7],
      [4, 9],
      [1, 1],
    ]) {
      for (const mode of MODES) {
        const lags = correlationLags(n1, n2, mode);
        assert.equal(
          lags.length,
          correlate(new Array(n1).fill(1), new Array(n2).fill(1), mode).length,
        );
      }
    }
  });

  it("defaults to mode 'full'", () => {
    assert.deepEqual(correlationLags(2, 3), [-2, -1, 0, 1]);
  });

  it("runs the documented delay search", () => {
    const h = [1, -2, 3];
    const x = [0, 0, 0, 0, 1, -2, 3, 0];
    const z = correlate(x, h);
    const lags = correlationLags(x.length, h.length);
    const delay = lags[z.indexOf(Math.max(...z))];
    assert.equal(delay, 4);
  });
});

describe("correlate finds a planted delay", () => {
  // as scipy's test_correlation_lags: h is x shifted ahead (shorter) or behind (longer)
  for (const mode of MODES) {
    for (const n of [100, 101]) {
      for (const offset of [10, 11]) {
        for (const behind of [false, true]) {
          for (const method of ["direct", "fft"] as const) {
            const title = `mode=${mode}, n=${n}, offset=${offset}, ${behind ? "behind" : "ahead"}, method=${method}`;
            it(title, () => {
              const x = randomSignal(n, n + offset);
              const h = behind
                ? Float64Array.of(...randomSignal(offset, 7), ...x)
                : x.slice(offset);
              const expected = behind ? -offset : offset;
              const z = correlate(x, h, mode, { method });
              const lags = correlationLags(x.length, h.length, mode);
              assert.equal(lags.length, z.length);
              assert.equal(lags[argmax(z)], expected);
            });
          }
        }
      }
    }
  }

  it("finds a delay inside a longer zero-padded signal", () => {
    const template = randomSignal(16, 3);
    for (const delay of [0, 5, 24]) {
      const x = new Float64Array(40);
      x.set(template, delay);
      for (const mode of MODES) {
        const z = correlate(x, template, mode);
        assert.equal(
          correlationLags(40, 16, mode)[argmax(z)],
          delay,
          `${mode}, delay ${delay}`,
        );
      }
    }
  });
});

describe("convolve and correlate input checks", () => {
  it("throws when x is empty", () => {
    assert.throws(
      () => convolve([], [1]),
      /^AekitError: convolve: x must be a non-empty array, got an array of length 0$/,
    );
  });

  it("throws when h is empty", () => {
    assert.throws(
      () => correlate([1, 2], new Float64Array(0)),
      /^AekitError: correlate: h must be a non-empty array, got a Float64Array of length 0$/,
    );
  });

  it("throws when x is not an array", () => {
    assert.throws(
      () => convolve("abc" as unknown as number[], [1]),
      /^AekitError: convolve: x must be an array or typed array of numbers, got "abc"$/,
    );
  });

  it("throws when a sample is NaN", () => {
    assert.throws(
      () => correlate([1, 2, NaN], [1]),
      /^AekitError: correlate: x\[2\] must be a finite number, got NaN$/,
    );
  });

  it("throws when a sample is infinite", () => {
    assert.throws(
      () => convolve([1], [1, -Infinity]),
      /^AekitError: convolve: h\[1\] must be a finite number, got -Infinity$/,
    );
  });

  it("throws when a Float64Array sample is NaN", () => {
    assert.throws(
      () => correlate(new Float64Array([1, NaN, 2]), [1]),
      /^AekitError: correlate: x\[1\] must be a finite number, got NaN$/,
    );
  });

  it("throws when a Float64Array kernel tap is infinite", () => {
    assert.throws(
      () => convolve([1, 2], new Float64Array([1, Infinity])),
      /^AekitError: convolve: h\[1\] must be a finite number, got Infinity$/,
    );
  });

  it("throws when a Float32Array sample is infinite", () => {
    assert.throws(
      () => correlate(new Float32Array([1, 2, -Infinity]), [1]),
      /^AekitError: correlate: x\[2\] must be a finite number, got -Infinity$/,
    );
  });

  it("throws when a sample is a string", () => {
    assert.throws(
      () => convolve([1, 2], [1, "2"] as unknown as number[]),
      /^AekitError: convolve: h\[1\] must be a finite number, got "2"$/,
    );
  });

  it("throws when a sample is a nested array", () => {
    assert.throws(
      () => correlate([[1, 2]] as unknown as number[], [1]),
      /^AekitError: correlate: x\[0\] must be a finite number, got an array of length 2$/,
    );
  });

  it("throws when the mode is unknown", () => {
    assert.throws(
      () => convolve([1, 2], [1], "circular" as ConvolveMode),
      /^AekitError: convolve: mode must be one of 'full', 'same', 'valid', got "circular"$/,
    );
  });

  it("throws when the method is unknown", () => {
    assert.throws(
      () => correlate([1, 2], [1], "full", { method: "fast" as ConvolveMethod }),
      /^AekitError: correlate: options.method must be one of 'auto', 'direct', 'fft', got "fast"$/,
    );
  });

  it("throws when options is not an object", () => {
    assert.throws(
      () => convolve([1, 2], [1], "full", "fft" as unknown as { method: ConvolveMethod }),
      /^AekitError: convolve: options must be an object such as \{ method: 'fft' \}, got "fft"$/,
    );
  });

  it("throws when a length is fractional", () => {
    assert.throws(
      () => correlationLags(2.5, 3),
      /^AekitError: correlationLags: n1 must be an integer, got 2.5$/,
    );
  });

  it("throws when a length is below 1", () => {
    assert.throws(
      () => correlationLags(3, 0),
      /^AekitError: correlationLags: n2 must be an integer >= 1, got 0$/,
    );
  });

  it("throws when a length is a string", () => {
    assert.throws(
      () => correlationLags("5" as unknown as number, 3),
      /^AekitError: correlationLags: n1 must be an integer, got "5"$/,
    );
  });

  it("throws when the lags mode is unknown", () => {
    assert.throws(
      () => correlationLags(3, 2, "centered" as ConvolveMode),
      /^AekitError: correlationLags: mode must be one of 'full', 'same', 'valid', got "centered"$/,
    );
  });

  it("throws when the lags exceed 2^26", () => {
    assert.throws(
      () => correlationLags(1e9, 3),
      /^AekitError: correlationLags: the number of lags in mode 'full' must be at most 67108864 \(2\^26, .*\), got 1000000002$/,
    );
  });
});
