import * as assert from "node:assert/strict";
import {
  convolve,
  impulseResponse,
  isLinear,
  isShiftInvariant,
  lfilter,
  stepResponse,
} from "../lib/src/signal";
import type { System } from "../lib/src/signal";
import { assertClose, FLOAT64_TOLERANCE } from "./helpers";

// Reference values from test/oracles/signal_oracles.py (SciPy 1.10): an FIR filter, a
// first-order recursion, a[0] != 1, b longer than x, and a 5-tap moving average.
const SCIPY_LFILTER: { b: number[]; a: number[]; x: number[]; y: number[] }[] = [
  { b: [1, 2], a: [1], x: [3, -1, 4, 1, -5, 9], y: [3, 5, 2, 9, -3, -1] },
  {
    b: [0.5],
    a: [1, -0.5],
    x: [1, 0, 0, 0, 0, 0],
    y: [0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625],
  },
  {
    b: [1, -1, 0.5],
    a: [2, -1, 0.25],
    x: [3, -1, 4, 1, -5, 9],
    y: [1.5, -1.25, 2.4375, -0.375, -2.4921875, 6.05078125],
  },
  { b: [1, 2, 3, 4, 5, 6, 7, 8], a: [1, 0.3], x: [1, -1, 2], y: [1, 0.7, 2.79] },
  {
    b: [0.2, 0.2, 0.2, 0.2, 0.2],
    a: [1],
    x: [1, 1, 1, 1, 1, 1, 1],
    y: [0.2, 0.4, 0.6000000000000001, 0.8, 1, 1, 1],
  },
];

const movingAverage: System = (x) => convolve(x, [1 / 3, 1 / 3, 1 / 3], "same");
const causalAverage: System = (x) => lfilter([1 / 3, 1 / 3, 1 / 3], [1], x);
const squaring: System = (x) => x.map((v) => v * v);
const timeVaryingGain: System = (x) => x.map((v, n) => (1 + n / 8) * v);
const plusOne: System = (x) => x.map((v) => v + 1);

describe("lfilter", () => {
  for (const { b, a, x, y } of SCIPY_LFILTER) {
    it(`matches scipy for b=[${b}], a=[${a}]`, () => {
      assertClose(lfilter(b, a, x), y, FLOAT64_TOLERANCE);
    });
  }

  it("runs a first-order recursion by hand", () => {
    // y[n] = x[n] + 0.5 y[n - 1]
    assert.deepEqual(lfilter([1], [1, -0.5], [2, 0, 0, 4]), [2, 1, 0.5, 4 + 0.25]);
  });

  it("equals the first N samples of convolve for an FIR filter", () => {
    const b = [0.5, -1, 2, 0.25];
    const x = [3, -1, 4, 1, -5, 9, 2];
    assertClose(lfilter(b, [1], x), convolve(x, b).slice(0, x.length), FLOAT64_TOLERANCE);
  });

  it("divides both coefficient arrays by a[0]", () => {
    const x = [1, 2, 3, 4];
    assertClose(
      lfilter([2, 4], [2, -1], x),
      lfilter([1, 2], [1, -0.5], x),
      FLOAT64_TOLERANCE,
    );
  });

  it("returns the type of x", () => {
    assert.ok(Array.isArray(lfilter([1], [1], [1, 2])));
    assert.ok(lfilter([1], [1], Float32Array.of(1, 2)) instanceof Float32Array);
    assert.ok(lfilter([1], [1], Int8Array.of(1, 2)) instanceof Float64Array);
  });

  it("throws when a[0] is 0", () => {
    assert.throws(
      () => lfilter([1], [0, 1], [1, 2]),
      /^AekitError: lfilter: a\[0\] must be nonzero, because the filter divides by it, got 0$/,
    );
  });

  it("throws when b is empty", () => {
    assert.throws(
      () => lfilter([], [1], [1]),
      /^AekitError: lfilter: b must be a non-empty array, got an array of length 0$/,
    );
  });

  it("throws when x is empty", () => {
    assert.throws(
      () => lfilter([1], [1], []),
      /^AekitError: lfilter: x must be a non-empty array, got an array of length 0$/,
    );
  });

  it("throws when a coefficient is NaN", () => {
    assert.throws(
      () => lfilter([1], [1, NaN], [1]),
      /^AekitError: lfilter: a\[1\] must be a finite number, got NaN$/,
    );
  });

  it("throws when a sample is a string", () => {
    assert.throws(
      () => lfilter([1], [1], [1, "2"] as unknown as number[]),
      /^AekitError: lfilter: x\[1\] must be a finite number, got "2"$/,
    );
  });
});

describe("impulseResponse and stepResponse", () => {
  it("returns the impulse response of a recursive filter", () => {
    // h[n] = 0.5^(n + 1)
    const h = impulseResponse((x) => lfilter([0.5], [1, -0.5], x), 5);
    assert.deepEqual(h, [0.5, 0.25, 0.125, 0.0625, 0.03125]);
  });

  it("returns the kernel of a convolution", () => {
    assert.deepEqual(
      impulseResponse((x) => convolve(x, [4, 5, 6]), 3),
      [4, 5, 6, 0, 0],
    );
  });

  it("returns the running sum as step response", () => {
    const system: System = (x) => lfilter([0.5], [1, -0.5], x);
    const h = impulseResponse(system, 6);
    const running = h.map((_, n) => h.slice(0, n + 1).reduce((s, v) => s + v, 0));
    assertClose(stepResponse(system, 6), running, FLOAT64_TOLERANCE);
  });

  it("returns a plain array for a typed-array system", () => {
    const response = stepResponse((x) => Float32Array.from(x), 3);
    assert.ok(Array.isArray(response));
    assert.deepEqual(response, [1, 1, 1]);
  });

  it("throws when system is not a function", () => {
    assert.throws(
      () => impulseResponse(3 as unknown as System, 4),
      /^AekitError: impulseResponse: system must be a function from a signal \(number\[\]\) to a signal, got 3$/,
    );
  });

  it("throws when n is not a positive integer", () => {
    assert.throws(
      () => stepResponse(squaring, 0),
      /^AekitError: stepResponse: n must be an integer >= 1, got 0$/,
    );
  });

  it("throws when n exceeds 2^26", () => {
    for (const [name, probe] of [
      ["impulseResponse", impulseResponse],
      ["stepResponse", stepResponse],
    ] as const) {
      assert.throws(
        () => probe((x) => x, 2 ** 27 + 10),
        new RegExp(
          `^AekitError: ${name}: n must be at most 67108864 \\(2\\^26, the longest array the kit builds\\), got 134217738$`,
        ),
      );
    }
  });

  it("throws when n is a string", () => {
    assert.throws(
      () => impulseResponse(squaring, "8" as unknown as number),
      /^AekitError: impulseResponse: n must be an integer, got "8"$/,
    );
  });

  it("throws when the system returns NaN", () => {
    assert.throws(
      () => impulseResponse((x) => x.map((v) => (v === 0 ? NaN : v)), 2),
      /^AekitError: impulseResponse: the system's output\[1\] must be a finite number, got NaN$/,
    );
  });

  it("throws when the system returns too few samples", () => {
    assert.throws(
      () => impulseResponse(() => [1], 4),
      /^AekitError: impulseResponse: system must return at least as many samples as its input \(4\), got an output of length 1$/,
    );
  });

  it("throws when the system returns nothing", () => {
    assert.throws(
      () => stepResponse((() => undefined) as unknown as System, 2),
      /^AekitError: stepResponse: the system's output must be an array or typed array of numbers, got undefined$/,
    );
  });
});

describe("isLinear and isShiftInvariant", () => {
  const systems: [string, System, boolean, boolean][] = [
    ["a centred moving average", movingAverage, true, true],
    ["a causal moving average", causalAverage, true, true],
    ["a recursive filter", (x) => lfilter([0.5], [1, -0.5], x), true, true],
    [
      "a full convolution",
      (x) => convolve(x, [1, -2, 1], "full", { method: "fft" }),
      true,
      true,
    ],
    ["squaring", squaring, false, true],
    ["adding 1", plusOne, false, true],
    ["a time-varying gain", timeVaryingGain, true, false],
    ["reversal in time", (x) => x.slice().reverse(), true, false],
  ];
  for (const [name, system, linear, shiftInvariant] of systems) {
    it(`judges ${name} ${linear ? "" : "not "}linear`, () => {
      const result = isLinear(system);
      assert.equal(result.passed, linear, `maxDeviation ${result.maxDeviation}`);
      assert.equal(result.maxDeviation <= result.tolerance, linear);
    });

    it(`judges ${name} ${shiftInvariant ? "" : "not "}shift-invariant`, () => {
      const result = isShiftInvariant(system);
      assert.equal(result.passed, shiftInvariant, `maxDeviation ${result.maxDeviation}`);
    });
  }

  it("reports squaring's deviation near 1", () => {
    const result = isLinear(squaring);
    assert.ok(result.maxDeviation > 0.1, `maxDeviation ${result.maxDeviation}`);
  });

  it("reports rounding-level deviation for averages", () => {
    assert.ok(isLinear(movingAverage).maxDeviation < 1e-14);
    assert.ok(isShiftInvariant(movingAverage).maxDeviation < 1e-14);
  });

  it("returns the options it used", () => {
    const result = isLinear(movingAverage, {
      trials: 3,
      tolerance: 1e-6,
      length: 10,
      seed: 4,
    });
    assert.deepEqual(
      { passed: result.passed, tolerance: result.tolerance, trials: result.trials },
      { passed: true, tolerance: 1e-6, trials: 3 },
    );
  });

  it("repeats its verdict and deviation for the same seed", () => {
    assert.deepEqual(isLinear(squaring, { seed: 7 }), isLinear(squaring, { seed: 7 }));
    assert.deepEqual(
      isShiftInvariant(timeVaryingGain, { seed: 7 }),
      isShiftInvariant(timeVaryingGain, { seed: 7 }),
    );
  });

  it("calls the system with plain arrays", () => {
    let seen: unknown;
    isLinear((x) => ((seen = x), x), { trials: 1 });
    assert.ok(Array.isArray(seen));
  });

  it("throws when the system is not a function", () => {
    assert.throws(
      () => isLinear("identity" as unknown as System),
      /^AekitError: isLinear: system must be a function from a signal \(number\[\]\) to a signal, got "identity"$/,
    );
  });

  it("throws when trials is 0", () => {
    assert.throws(
      () => isLinear(squaring, { trials: 0 }),
      /^AekitError: isLinear: options.trials must be an integer >= 1, got 0$/,
    );
  });

  it("throws when length is not an integer", () => {
    assert.throws(
      () => isLinear(squaring, { length: 2.5 }),
      /^AekitError: isLinear: options.length must be an integer, got 2.5$/,
    );
  });

  it("throws when length is too short to shift", () => {
    assert.throws(
      () => isShiftInvariant(squaring, { length: 4 }),
      /^AekitError: isShiftInvariant: options.length must be an integer >= 8, got 4$/,
    );
  });

  it("throws when the tolerance is negative", () => {
    assert.throws(
      () => isShiftInvariant(squaring, { tolerance: -1 }),
      /^AekitError: isShiftInvariant: options.tolerance must be >= 0, got -1$/,
    );
  });

  it("throws when the tolerance is NaN", () => {
    assert.throws(
      () => isLinear(squaring, { tolerance: NaN }),
      /^AekitError: isLinear: options.tolerance must be a finite number, got NaN$/,
    );
  });

  it("throws when the seed is a string", () => {
    assert.throws(
      () => isLinear(squaring, { seed: "a" as unknown as number }),
      /^AekitError: isLinear: options.seed must be an integer, got "a"$/,
    );
  });

  it("throws when options is not an object", () => {
    assert.throws(
      () => isShiftInvariant(squaring, 5 as unknown as { seed: number }),
      /^AekitError: isShiftInvariant: options must be an object such as \{ trials: 20, seed: 0 \}, got 5$/,
    );
  });

  it("throws when the output length varies", () => {
    let calls = 0;
    const growing: System = (x) => x.concat(new Array<number>(calls++).fill(0));
    assert.throws(
      () => isLinear(growing),
      /^AekitError: isLinear: system must return outputs of one length for inputs of one length, got outputs of length 64 and 66$/,
    );
  });

  it("throws when the system returns Infinity", () => {
    assert.throws(
      () => isShiftInvariant((x) => x.map((v) => (v === 0 ? 1 / 0 : v))),
      /^AekitError: isShiftInvariant: the system's output\[0\] must be a finite number, got Infinity$/,
    );
  });
});

describe("documented examples", () => {
  it("give the documented outputs", () => {
    assert.deepEqual(lfilter([0.5], [1, -0.5], [1, 0, 0, 0]), [0.5, 0.25, 0.125, 0.0625]);
    assert.deepEqual(
      impulseResponse((x) => lfilter([0.5], [1, -0.5], x), 4),
      [0.5, 0.25, 0.125, 0.0625],
    );
    assert.equal(isLinear((x) => convolve(x, [1 / 3, 1 / 3, 1 / 3])).passed, true);
    assert.equal(isLinear((x) => x.map((v) => v * v)).passed, false);
    assert.equal(isShiftInvariant((x) => x.map((v) => v * v)).passed, true);
    assert.equal(isShiftInvariant((x) => x.map((v, n) => n * v)).passed, false);
  });
});
