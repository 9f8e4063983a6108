import * as assert from "node:assert/strict";
import { makeRng, randomNormal } from "../lib/src/core/random";
import { convolve2d, correlate2d } from "../lib/src/signal";
import type { ConvolveMethod, ConvolveMode } from "../lib/src/signal";
import { assertClose, FLOAT64_TOLERANCE } from "./helpers";

// Reference values from test/oracles/signal_oracles.py (numpy 1.24, SciPy 1.10). The
// image is 4 x 5, and the kernels are 1 x 1, 2 x 2 (even), 3 x 3 (odd), 2 x 3 and 5 x 6
// (larger than the image in both dimensions).
const IMAGE = [
  [3, 1, -2, 0, 4],
  [1, 5, 2, -1, 2],
  [0, -3, 4, 6, 1],
  [2, 2, -1, 3, 5],
];
const KERNELS: Record<string, number[][]> = {
  k11: [[2]],
  k22: [
    [1, -1],
    [2, 0],
  ],
  k33: [
    [0, 1, 0],
    [1, -4, 1],
    [0, 1, 2],
  ],
  k23: [
    [1, 2, 3],
    [-1, 0, 1],
  ],
  k56: [
    [1, 0, 2, -1, 0, 1],
    [0, 3, 1, 0, -2, 0],
    [2, 0, -1, 1, 0, 1],
    [1, 1, 0, 0, 2, -1],
    [0, -1, 1, 2, 0, 3],
  ],
};

const SCIPY_2D: Record<
  string,
  Record<ConvolveMode, { convolve2d: number[][]; correlate2d: number[][] }>
> = {
  k11: {
    full: {
      convolve2d: [
        [6, 2, -4, 0, 8],
        [2, 10, 4, -2, 4],
        [0, -6, 8, 12, 2],
        [4, 4, -2, 6, 10],
      ],
      correlate2d: [
        [6, 2, -4, 0, 8],
        [2, 10, 4, -2, 4],
        [0, -6, 8, 12, 2],
        [4, 4, -2, 6, 10],
      ],
    },
    same: {
      convolve2d: [
        [6, 2, -4, 0, 8],
        [2, 10, 4, -2, 4],
        [0, -6, 8, 12, 2],
        [4, 4, -2, 6, 10],
      ],
      correlate2d: [
        [6, 2, -4, 0, 8],
        [2, 10, 4, -2, 4],
        [0, -6, 8, 12, 2],
        [4, 4, -2, 6, 10],
      ],
    },
    valid: {
      convolve2d: [
        [6, 2, -4, 0, 8],
        [2, 10, 4, -2, 4],
        [0, -6, 8, 12, 2],
        [4, 4, -2, 6, 10],
      ],
      correlate2d: [
        [6, 2, -4, 0, 8],
        [2, 10, 4, -2, 4],
        [0, -6, 8, 12, 2],
        [4, 4, -2, 6, 10],
      ],
    },
  },
  k22: {
    full: {
      convolve2d: [
        [3, -2, -3, 2, 4, -4],
        [7, 6, -7, -3, 11, -2],
        [2, 7, 11, 0, -1, -1],
        [2, -6, 5, 16, 4, -5],
        [4, 4, -2, 6, 10, 0],
      ],
      correlate2d: [
        [0, 6, 2, -4, 0, 8],
        [-3, 4, 13, 2, -6, 8],
        [-1, -4, -3, 11, 9, 4],
        [0, 7, -3, -4, 11, 11],
        [-2, 0, 3, -4, -2, 5],
      ],
    },
    same: {
      convolve2d: [
        [3, -2, -3, 2, 4],
        [7, 6, -7, -3, 11],
        [2, 7, 11, 0, -1],
        [2, -6, 5, 16, 4],
      ],
      correlate2d: [
        [4, 13, 2, -6, 8],
        [-4, -3, 11, 9, 4],
        [7, -3, -4, 11, 11],
        [0, 3, -4, -2, 5],
      ],
    },
    valid: {
      convolve2d: [
        [6, -7, -3, 11],
        [7, 11, 0, -1],
        [-6, 5, 16, 4],
      ],
      correlate2d: [
        [4, 13, 2, -6],
        [-4, -3, 11, 9],
        [7, -3, -4, 11],
      ],
    },
  },
  k33: {
    full: {
      convolve2d: [
        [0, 3, 1, -2, 0, 4, 0],
        [3, -10, 2, 11, 1, -14, 4],
        [1, 4, -13, 0, 10, -4, 10],
        [0, 0, 25, -2, -13, 7, 5],
        [2, -6, -10, 7, 6, -4, 7],
        [0, 2, 6, 3, 1, 11, 10],
      ],
      correlate2d: [
        [6, 5, -3, -2, 8, 4, 0],
        [5, 0, 6, 9, 5, -14, 4],
        [1, -2, -11, 10, 16, -4, 2],
        [4, 4, 21, -6, -7, 9, 1],
        [2, -6, -10, 13, -2, -16, 5],
        [0, 2, 2, -1, 3, 5, 0],
      ],
    },
    same: {
      convolve2d: [
        [-10, 2, 11, 1, -14],
        [4, -13, 0, 10, -4],
        [0, 25, -2, -13, 7],
        [-6, -10, 7, 6, -4],
      ],
      correlate2d: [
        [0, 6, 9, 5, -14],
        [-2, -11, 10, 16, -4],
        [4, 21, -6, -7, 9],
        [-6, -10, 13, -2, -16],
      ],
    },
    valid: {
      convolve2d: [
        [-13, 0, 10],
        [25, -2, -13],
      ],
      correlate2d: [
        [-11, 10, 16],
        [21, -6, -7],
      ],
    },
  },
  k23: {
    full: {
      convolve2d: [
        [3, 7, 9, -1, -2, 8, 12],
        [-2, 6, 20, 19, 0, 1, 10],
        [-1, -8, -3, 11, 25, 19, 5],
        [2, 9, 5, -2, 11, 25, 16],
        [-2, -2, 3, -1, -6, 3, 5],
      ],
      correlate2d: [
        [3, 1, -5, -1, 6, 0, -4],
        [10, 14, 0, -9, 10, 9, 2],
        [3, 14, 21, 15, 3, -3, 1],
        [2, -7, 3, 24, 25, 5, -4],
        [6, 10, 3, 9, 20, 13, 5],
      ],
    },
    same: {
      convolve2d: [
        [7, 9, -1, -2, 8],
        [6, 20, 19, 0, 1],
        [-8, -3, 11, 25, 19],
        [9, 5, -2, 11, 25],
      ],
      correlate2d: [
        [14, 0, -9, 10, 9],
        [14, 21, 15, 3, -3],
        [-7, 3, 24, 25, 5],
        [10, 3, 9, 20, 13],
      ],
    },
    valid: {
      convolve2d: [
        [20, 19, 0],
        [-3, 11, 25],
        [5, -2, 11],
      ],
      correlate2d: [
        [0, -9, 10],
        [21, 15, 3],
        [3, 24, 25],
      ],
    },
  },
  k56: {
    full: {
      convolve2d: [
        [3, 1, 4, -1, -1, 5, 9, -6, 0, 4],
        [1, 14, 10, 3, -7, 7, 18, 0, -9, 2],
        [6, 2, 13, 13, 20, 4, -12, 7, 2, 5],
        [7, 16, -4, 6, 40, 31, -1, -12, 8, 3],
        [1, 3, 25, 24, 2, 24, 15, -3, 1, 11],
        [4, 0, -7, 21, 33, -3, 26, 22, -4, 10],
        [2, 4, 4, -5, 4, 20, 0, 21, 25, -2],
        [0, -2, 0, 7, 0, 2, 17, 7, 9, 15],
      ],
      correlate2d: [
        [9, 3, 0, 5, 6, -3, 10, 4, -4, 0],
        [0, 20, 12, 4, 13, 7, 0, 1, 2, 4],
        [2, -11, 21, 15, 6, 37, 17, -12, 0, 10],
        [7, 8, -8, 27, 33, -6, 22, 18, 12, 5],
        [1, -2, -6, 0, 29, 28, -8, 14, 26, 11],
        [3, 7, 8, -9, -3, 7, 25, 18, 8, 12],
        [0, -7, 0, 13, -7, -3, 8, 20, 21, 1],
        [2, 2, -3, 5, 10, -3, 3, 9, 3, 5],
      ],
    },
    same: {
      convolve2d: [
        [13, 13, 20, 4, -12],
        [-4, 6, 40, 31, -1],
        [25, 24, 2, 24, 15],
        [-7, 21, 33, -3, 26],
      ],
      correlate2d: [
        [15, 6, 37, 17, -12],
        [27, 33, -6, 22, 18],
        [0, 29, 28, -8, 14],
        [-9, -3, 7, 25, 18],
      ],
    },
    valid: {
      convolve2d: [
        [40, 31],
        [2, 24],
      ],
      correlate2d: [
        [33, -6],
        [29, 28],
      ],
    },
  },
};

// scipy.signal.correlate(IMAGE, k22, 'same'), the n-dimensional function
const SCIPY_CORRELATE_ND_SAME_K22 = [
  [0, 6, 2, -4, 0],
  [-3, 4, 13, 2, -6],
  [-1, -4, -3, 11, 9],
  [0, 7, -3, -4, 11],
];

const MODES: readonly ConvolveMode[] = ["full", "same", "valid"];
const COMPUTING: readonly ConvolveMethod[] = ["direct", "fft", "auto"];

function randomImage(rows: number, cols: number, seed: number): Float64Array[] {
  const rng = makeRng(seed);
  return Array.from({ length: rows }, () =>
    Float64Array.from({ length: cols }, () => randomNormal(rng)),
  );
}

function crop(
  image: ArrayLike<number>[],
  top: number,
  left: number,
  rows: number,
  cols: number,
) {
  return image
    .slice(top, top + rows)
    .map((row) => Array.from(row).slice(left, left + cols));
}

function argmax2d(image: ArrayLike<number>[]): [number, number] {
  let best: [number, number] = [0, 0];
  for (let r = 0; r < image.length; r++) {
    for (let c = 0; c < image[r].length; c++) {
      if (image[r][c] > image[best[0]][best[1]]) best = [r, c];
    }
  }
  return best;
}

/** Asserts agreement within FLOAT64_TOLERANCE times the largest |expected|. */
function assertCloseToScale(
  actual: ArrayLike<number>[],
  expected: ArrayLike<number>[],
  label: string,
) {
  assert.equal(actual.length, expected.length, `${label}: rows`);
  const flatExpected = expected.flatMap((row) => Array.from(row));
  const flatActual = actual.flatMap((row) => Array.from(row));
  assert.equal(flatActual.length, flatExpected.length, `${label}: entries`);
  const scale = Math.max(1, ...flatExpected.map(Math.abs));
  for (let i = 0; i < flatExpected.length; i++) {
    assert.ok(
      Math.abs(flatActual[i] - flatExpected[i]) <= FLOAT64_TOLERANCE * scale,
      `${label}: entry ${i} = ${flatActual[i]}, expected ${flatExpected[i]}`,
    );
  }
}

describe("convolve2d and correlate2d against scipy", () => {
  for (const [name, byMode] of Object.entries(SCIPY_2D)) {
    for (const mode of MODES) {
      for (const method of COMPUTING) {
        it(`image 4x5, ${name}, mode=${mode}, method=${method}`, () => {
          const kernel = KERNELS[name];
          const expected = byMode[mode];
          const convolved = convolve2d(IMAGE, kernel, mode, { method });
          const correlated = correlate2d(IMAGE, kernel, mode, { method });
          assert.equal(convolved.length, expected.convolve2d.length);
          assert.equal(correlated.length, expected.correlate2d.length);
          assertClose(convolved.flat(), expected.convolve2d.flat(), FLOAT64_TOLERANCE);
          assertClose(correlated.flat(), expected.correlate2d.flat(), FLOAT64_TOLERANCE);
        });
      }
    }
  }

  it("correlate2d matches hand arithmetic", () => {
    // one position: 1*1 + 2*0 + 3*0 + 4*(-1)
    assert.deepEqual(
      correlate2d(
        [
          [1, 2],
          [3, 4],
        ],
        [
          [1, 0],
          [0, -1],
        ],
        "valid",
      ),
      [[1 * 1 + 2 * 0 + 3 * 0 + 4 * -1]],
    );
  });

  it("convolve2d matches hand arithmetic", () => {
    // the kernel is flipped: 1*(-1) + 2*0 + 3*0 + 4*1
    assert.deepEqual(
      convolve2d(
        [
          [1, 2],
          [3, 4],
        ],
        [
          [1, 0],
          [0, -1],
        ],
        "valid",
      ),
      [[1 * -1 + 2 * 0 + 3 * 0 + 4 * 1]],
    );
  });

  it("correlate2d equals convolve2d rotated", () => {
    const image = randomImage(9, 11, 1);
    const rotate = (kernel: Float64Array[]) =>
      kernel.map((row) => Float64Array.from(row).reverse()).reverse();
    const even = randomImage(4, 2, 2);
    const odd = randomImage(5, 3, 2);
    for (const mode of ["full", "valid"] as const) {
      assertCloseToScale(
        correlate2d(image, even, mode),
        convolve2d(image, rotate(even), mode),
        mode,
      );
    }
    // 'same' too for an odd kernel; for an even one the windows differ by one lag
    assertCloseToScale(
      correlate2d(image, odd, "same"),
      convolve2d(image, rotate(odd), "same"),
      "same",
    );
  });

  it("same windows differ for even kernels", () => {
    const image = randomImage(9, 11, 1);
    const even = randomImage(4, 2, 2);
    const rotated = even.map((row) => Float64Array.from(row).reverse()).reverse();
    const full = correlate2d(image, even, "full");
    // correlate2d starts 'same' at floor(k / 2), convolve2d at floor((k - 1) / 2)
    assertCloseToScale(
      correlate2d(image, even, "same"),
      crop(full, 2, 1, 9, 11),
      "correlate2d",
    );
    assertCloseToScale(
      convolve2d(image, rotated, "same"),
      crop(full, 1, 0, 9, 11),
      "convolve2d",
    );
  });

  it("defaults to mode 'full'", () => {
    const kernel = KERNELS.k22;
    assert.deepEqual(correlate2d(IMAGE, kernel), correlate2d(IMAGE, kernel, "full"));
    assert.deepEqual(convolve2d(IMAGE, kernel), convolve2d(IMAGE, kernel, "full"));
  });
});

describe("correlate2d 'same' with an even kernel", () => {
  it("starts one lag after scipy's correlate", () => {
    const full = correlate2d(IMAGE, KERNELS.k22, "full");
    // correlate2d keeps full[1..4][1..5], lags 0 .. H - 1
    assert.deepEqual(correlate2d(IMAGE, KERNELS.k22, "same"), crop(full, 1, 1, 4, 5));
    // scipy.signal.correlate keeps full[0..3][0..4], lags -1 .. H - 2
    assert.deepEqual(SCIPY_CORRELATE_ND_SAME_K22, crop(full, 0, 0, 4, 5));
  });

  it("is centred like scipy's correlate for an odd kernel", () => {
    const full = correlate2d(IMAGE, KERNELS.k33, "full");
    assert.deepEqual(correlate2d(IMAGE, KERNELS.k33, "same"), crop(full, 1, 1, 4, 5));
  });
});

describe("convolve2d output sizes", () => {
  for (const [rows, cols] of [
    [1, 1],
    [4, 5],
    [6, 3],
  ]) {
    for (const [kRows, kCols] of [
      [1, 1],
      [2, 2],
      [3, 1],
      [1, 4],
      [6, 5],
    ]) {
      it(`image ${rows}x${cols}, kernel ${kRows}x${kCols}`, () => {
        const image = randomImage(rows, cols, 3);
        const kernel = randomImage(kRows, kCols, 4);
        for (const fn of [convolve2d, correlate2d]) {
          const full = fn(image, kernel, "full");
          assert.equal(full.length, rows + kRows - 1);
          assert.equal(full[0].length, cols + kCols - 1);
          const same = fn(image, kernel, "same");
          assert.equal(same.length, rows);
          assert.equal(same[0].length, cols);
          const pairs =
            (kRows <= rows && kCols <= cols) || (kRows >= rows && kCols >= cols);
          if (pairs) {
            const valid = fn(image, kernel, "valid");
            assert.equal(valid.length, Math.abs(rows - kRows) + 1);
            assert.equal(valid[0].length, Math.abs(cols - kCols) + 1);
          } else {
            assert.throws(() => fn(image, kernel, "valid"), /for mode 'valid'/);
          }
        }
      });
    }
  }
});

describe("convolve2d output types", () => {
  it("returns arrays of Arrays for arrays of Arrays", () => {
    const y = convolve2d([[1, 2]], [new Float32Array([1])]);
    assert.ok(Array.isArray(y[0]));
  });

  it("returns Float32Array rows for Float32Array rows", () => {
    const y = correlate2d([Float32Array.of(1, 2), Float32Array.of(3, 4)], [[1]]);
    assert.ok(y[0] instanceof Float32Array);
    assert.deepEqual(Array.from(y[1]), [3, 4]);
  });

  it("returns Float64Array rows for other or mixed rows", () => {
    assert.ok(correlate2d([Uint8Array.of(1, 2)], [[1]])[0] instanceof Float64Array);
    assert.ok(
      correlate2d([[1, 2], Float32Array.of(3, 4)], [[1]])[0] instanceof Float64Array,
    );
  });
});

describe("convolve2d direct against FFT", () => {
  const cases: [number, number, number, number][] = [
    [1, 1, 1, 1],
    [1, 40, 1, 7],
    [40, 1, 6, 1],
    [17, 23, 4, 6],
    [64, 64, 15, 15],
    [100, 90, 7, 8],
    [5, 6, 12, 9],
    [130, 70, 3, 40],
    [3, 40, 8, 20],
  ];
  for (const [rows, cols, kRows, kCols] of cases) {
    for (const mode of MODES) {
      const pairs = (kRows <= rows && kCols <= cols) || (kRows >= rows && kCols >= cols);
      if (mode === "valid" && !pairs) continue;
      it(`image ${rows}x${cols}, kernel ${kRows}x${kCols}, mode=${mode}`, () => {
        const image = randomImage(rows, cols, rows * cols);
        const kernel = randomImage(kRows, kCols, kRows * kCols + 1);
        const direct = correlate2d(image, kernel, mode, { method: "direct" });
        assertCloseToScale(
          correlate2d(image, kernel, mode, { method: "fft" }),
          direct,
          "fft",
        );
        assertCloseToScale(correlate2d(image, kernel, mode), direct, "auto");
        const convolved = convolve2d(image, kernel, mode, { method: "direct" });
        assertCloseToScale(
          convolve2d(image, kernel, mode, { method: "fft" }),
          convolved,
          "convolve2d",
        );
      });
    }
  }
});

describe("convolve2d and correlate2d repeated calls", () => {
  // the 2-D functions keep work arrays between calls, so a call must neither read what
  // an earlier call left in them nor change an output it returned
  it("match a fresh result after a larger call", () => {
    const small = randomImage(20, 30, 5);
    const kernel = randomImage(4, 6, 6);
    for (const method of COMPUTING) {
      const first = correlate2d(small, kernel, "full", { method });
      const expected = first.map((row) => Array.from(row));
      correlate2d(randomImage(90, 80, 7), randomImage(9, 9, 8), "same", { method });
      assertCloseToScale(
        correlate2d(small, kernel, "full", { method }),
        correlate2d(small, kernel, "full", { method: "direct" }),
        `${method}: repeated`,
      );
      assert.deepEqual(
        first.map((row) => Array.from(row)),
        expected,
        `${method}: the first output changed`,
      );
    }
  });

  it("swap a kernel larger than the image after a call", () => {
    const image = randomImage(5, 6, 9);
    const kernel = randomImage(12, 10, 10);
    correlate2d(randomImage(40, 40, 11), randomImage(3, 3, 12), "valid");
    assertCloseToScale(
      convolve2d(image, kernel, "valid", { method: "fft" }),
      convolve2d(image, kernel, "valid", { method: "direct" }),
      "kernel larger than image",
    );
  });
});

describe("correlate2d finds a planted shift", () => {
  // a patch of a zero-mean random image correlates most with itself; every planted
  // position top <= H - k lies inside the 'same' window, whose last lag is
  // H - 1 - floor((k - 1) / 2)
  const image = randomImage(48, 56, 5);
  for (const [kRows, kCols] of [
    [7, 8],
    [8, 7],
    [9, 9],
    [2, 12],
  ]) {
    for (const [top, left] of [
      [0, 0],
      [13, 30],
      [48 - kRows, 56 - kCols],
    ]) {
      for (const mode of MODES) {
        it(`template ${kRows}x${kCols} at (${top}, ${left}), mode=${mode}`, () => {
          const template = crop(image, top, left, kRows, kCols);
          const z = correlate2d(image, template, mode);
          const [i, j] = argmax2d(z);
          // the lag of output index 0: -(k - 1) in 'full', -floor((k - 1) / 2) in 'same'
          const first = (k: number) => {
            if (mode === "full") return -(k - 1);
            if (mode === "same") return -Math.floor((k - 1) / 2);
            return 0;
          };
          assert.deepEqual([i + first(kRows), j + first(kCols)], [top, left]);
        });
      }
    }
  }
});

describe("convolve2d and correlate2d input checks", () => {
  it("throws when the image is empty", () => {
    assert.throws(
      () => correlate2d([], [[1]]),
      /^AekitError: correlate2d: image must be a non-empty array of rows, got an array of length 0$/,
    );
  });

  it("throws when the first row is empty", () => {
    assert.throws(
      () => convolve2d([[]], [[1]]),
      /^AekitError: convolve2d: image\[0\] must be a non-empty array, got an array of length 0$/,
    );
  });

  it("throws when rows are ragged", () => {
    assert.throws(
      () =>
        correlate2d(
          [
            [1, 2, 3],
            [4, 5, 6],
            [7, 8],
          ],
          [[1]],
        ),
      /^AekitError: correlate2d: image\[2\] must have the same length as image\[0\] \(3\), got an array of length 2$/,
    );
  });

  it("throws when the image is a 1-D array", () => {
    assert.throws(
      () => convolve2d([1, 2, 3] as unknown as number[][], [[1]]),
      /^AekitError: convolve2d: image\[0\] must be an array or typed array of numbers, got 1$/,
    );
  });

  it("throws when the kernel is not an array", () => {
    assert.throws(
      () => convolve2d([[1]], 2 as unknown as number[][]),
      /^AekitError: convolve2d: kernel must be an array of rows \(arrays or typed arrays of numbers\), got 2$/,
    );
  });

  it("throws when an entry is NaN", () => {
    assert.throws(
      () => convolve2d([[1, 2]], [[1], [NaN]]),
      /^AekitError: convolve2d: kernel\[1\]\[0\] must be a finite number, got NaN$/,
    );
  });

  it("throws when a Float64Array entry is infinite", () => {
    assert.throws(
      () =>
        correlate2d([new Float64Array([1, 2]), new Float64Array([3, Infinity])], [[1]]),
      /^AekitError: correlate2d: image\[1\]\[1\] must be a finite number, got Infinity$/,
    );
  });

  it("throws when an entry is a string", () => {
    assert.throws(
      () => correlate2d([[1, "2"]] as unknown as number[][], [[1]]),
      /^AekitError: correlate2d: image\[0\]\[1\] must be a finite number, got "2"$/,
    );
  });

  it("throws when 'valid' cannot pair the sizes", () => {
    assert.throws(
      () => correlate2d(IMAGE, [[1, 2, 3, 4, 5, 6]], "valid"),
      /^AekitError: correlate2d: kernel must be no larger than image \(4 x 5\) in both dimensions, or no smaller in both, for mode 'valid', got 1 x 6$/,
    );
  });

  it("throws when the mode is unknown", () => {
    assert.throws(
      () => convolve2d(IMAGE, [[1]], "wrap" as ConvolveMode),
      /^AekitError: convolve2d: mode must be one of 'full', 'same', 'valid', got "wrap"$/,
    );
  });

  it("throws when the method is unknown", () => {
    assert.throws(
      () => correlate2d(IMAGE, [[1]], "same", { method: "winograd" as ConvolveMethod }),
      /^AekitError: correlate2d: options.method must be one of 'auto', 'direct', 'fft', got "winograd"$/,
    );
  });
});
