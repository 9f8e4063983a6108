import * as assert from "node:assert/strict";
import { makeRng, randomNormal } from "../lib/src/core/random";
import { matchTemplate } from "../lib/src/signal";
import type { TemplateMethod } from "../lib/src/signal";
import { assertClose, FLOAT32_TOLERANCE } from "./helpers";

// Reference values from test/oracles/signal_oracles.py: cv2.matchTemplate of OpenCV 4.6
// on float32 images, rounded to 7 significant digits. TM_IMAGE has a constant 4 x 4 patch
// of 5s at the top left and a 2 x 3 patch of zeros below it.
const TM_IMAGE = [
  [5, 5, 5, 5, 1, 2, 3],
  [5, 5, 5, 5, 4, 0, 6],
  [5, 5, 5, 5, 7, 8, 1],
  [5, 5, 5, 5, 2, 9, 3],
  [0, 0, 0, 3, 1, 1, 2],
  [0, 0, 0, 4, 0, 6, 5],
];
const OPENCV: Record<string, Record<TemplateMethod, number[][]>> = {
  t22: {
    TM_CCORR_NORMED: [
      [0.8017837, 0.8017837, 0.8017837, 0.7183254, 0.9914601, 0.3054414],
      [0.8017837, 0.8017837, 0.8017837, 0.6978227, 0.588276, 0.9573656],
      [0.8017837, 0.8017837, 0.8017837, 0.8953571, 0.5508094, 0.7942768],
      [0.5669467, 0.5669467, 0.5219167, 0.7703289, 0.6590285, 0.4935676],
      [0, 0, 0.3207135, 0.8910421, 0.1300665, 0.7566444],
    ],
    TM_CCOEFF_NORMED: [
      [0, 0, 0, -0.06819943, 0.9827076, -0.8778762],
      [0, 0, 0, -0.7181848, -0.2514474, 0.9025105],
      [0, 0, 0, 0.6888467, -0.8304548, 0.3676895],
      [0, 0, -0.4917225, 0.2267787, 0.2339842, -0.3232895],
      [0, 0, -0.5636019, 0.7071068, -0.8581163, 0.2169305],
    ],
  },
  t23: {
    TM_CCORR_NORMED: [
      [0.8257228, 0.8257228, 0.8352193, 0.7841254, 0.813285],
      [0.8257228, 0.8257228, 0.8607768, 0.8869003, 0.8058521],
      [0.8257228, 0.8257228, 0.7085758, 0.7277995, 0.5983661],
      [0.2335497, 0.3972307, 0.4213749, 0.5025854, 0.3101319],
      [0, 0.5123919, 0.3437758, 0.8664002, 0.6918796],
    ],
    TM_CCOEFF_NORMED: [
      [0, 0, 0.3002782, 0.3251694, 0.4453845],
      [0, 0, 0.4892943, 0.5945801, 0.3927922],
      [0, 0, -0.5004636, -0.2112886, -0.3452707],
      [-0.8783101, -0.7855844, -0.7763237, -0.3988706, -0.7753981],
      [0, 0.08739512, -0.4273274, 0.6390644, 0.1980535],
    ],
  },
  t33: {
    TM_CCORR_NORMED: [
      [0.7777778, 0.7777778, 0.737115, 0.8300574, 0.7329334],
      [0.7777778, 0.7777778, 0.7207865, 0.5980392, 0.909588],
      [0.5443311, 0.6080062, 0.7179887, 0.5488766, 0.3987585],
      [0.2886751, 0.4333333, 0.5403831, 0.5828859, 0.6304883],
    ],
    TM_CCOEFF_NORMED: [
      [0, 0, -0.01976424, 0.5078125, 0.3005038],
      [0, 0, -0.2080599, -0.2983107, 0.7538191],
      [-0.25, -0.2294157, 0.1500248, -0.336287, -0.5128325],
      [-0.3125, -0.320686, -0.09388012, -0.07241055, 0.09320014],
    ],
  },
  flat: {
    TM_CCORR_NORMED: [
      [1, 1, 1, 0.9162709, 0.7637626, 0.7857143],
      [1, 1, 1, 0.97913, 0.8364283, 0.7462779],
      [1, 1, 1, 0.9360628, 0.9238698, 0.8433803],
      [0.7071068, 0.7071068, 0.8462279, 0.8807048, 0.6968731, 0.7694837],
      [0, 0, 0.7, 0.7844645, 0.6488857, 0.8616405],
    ],
    TM_CCOEFF_NORMED: [
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
    ],
  },
  zero: {
    TM_CCORR_NORMED: [
      [0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0],
    ],
    TM_CCOEFF_NORMED: [
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
    ],
  },
};

// cv2.matchTemplate of NEAR_FLAT (float32) and t22 with TM_CCOEFF_NORMED, same script.
// The window at (0, 0) has squared deviations summing to 0.03, below OpenCV's flatness
// threshold min(0.5, 10 FLT_EPSILON * 40000) = 0.048; the one at (2, 2) has 0.0675.
const NEAR_FLAT = [
  [100.2, 100, 100, 100],
  [100, 100, 100, 100],
  [100, 100, 100, 100],
  [100, 100, 100, 100.3],
];
const OPENCV_NEAR_FLAT = [
  [0, 0, 0],
  [0, 0, 0],
  [0, 0, -0.7745967],
];

const TEMPLATES: Record<string, number[][]> = {
  t22: [
    [1, 2],
    [3, 0],
  ],
  t23: [
    [2, 0, 1],
    [5, 3, 4],
  ],
  t33: [
    [1, 0, 2],
    [3, 1, 1],
    [0, 4, 2],
  ],
  flat: [
    [4, 4],
    [4, 4],
  ],
  zero: [
    [0, 0],
    [0, 0],
  ],
};
const METHODS: readonly TemplateMethod[] = ["TM_CCORR_NORMED", "TM_CCOEFF_NORMED"];
// scores are float64 sums of at most a few thousand products
const SCORE_TOLERANCE = 1e-10;

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

/** Flattens rows that may be typed arrays, which Array.prototype.flat leaves whole. */
function flatten(rows: ArrayLike<number>[]): number[] {
  return rows.flatMap((row) => Array.from(row));
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

/** Scores one window by the textbook formula, two-pass, with no tables or FFT. */
function bruteForceScore(
  window: number[][],
  template: number[][],
  method: TemplateMethod,
): number {
  const w = window.flat();
  const t = template.flat();
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const wc = method === "TM_CCOEFF_NORMED" ? w.map((x) => x - mean(w)) : w;
  const tc = method === "TM_CCOEFF_NORMED" ? t.map((x) => x - mean(t)) : t;
  const dot = wc.reduce((s, x, i) => s + x * tc[i], 0);
  const norms = Math.sqrt(
    wc.reduce((s, x) => s + x * x, 0) * tc.reduce((s, x) => s + x * x, 0),
  );
  return dot / norms;
}

function bruteForce(
  image: ArrayLike<number>[],
  template: number[][],
  method: TemplateMethod,
) {
  const rows = image.length - template.length + 1;
  const cols = image[0].length - template[0].length + 1;
  return Array.from({ length: rows }, (_, r) =>
    Array.from({ length: cols }, (_, c) =>
      bruteForceScore(
        crop(image, r, c, template.length, template[0].length),
        template,
        method,
      ),
    ),
  );
}

function assertAllFinite(scores: ArrayLike<number>[]) {
  for (const row of scores) {
    for (const v of Array.from(row)) {
      assert.ok(Number.isFinite(v), `score ${v}`);
      assert.ok(v >= -1, `score ${v}`);
      assert.ok(v <= 1, `score ${v}`);
    }
  }
}

describe("matchTemplate against OpenCV 4.6", () => {
  for (const name of ["t22", "t23", "t33"]) {
    for (const method of METHODS) {
      it(`${name}, ${method}`, () => {
        const scores = matchTemplate(TM_IMAGE, TEMPLATES[name], method);
        const expected = OPENCV[name][method];
        assert.equal(scores.length, expected.length);
        assert.equal(scores[0].length, expected[0].length);
        assertClose(flatten(scores), expected.flat(), FLOAT32_TOLERANCE);
      });
    }
  }

  it("matches OpenCV for a constant template", () => {
    const scores = matchTemplate(TM_IMAGE, TEMPLATES.flat, "TM_CCORR_NORMED");
    assertClose(flatten(scores), OPENCV.flat.TM_CCORR_NORMED.flat(), FLOAT32_TOLERANCE);
  });

  it("matches the brute-force formula on a larger image", () => {
    const image = randomImage(70, 90, 1);
    const template = crop(randomImage(12, 15, 2), 0, 0, 12, 15);
    for (const method of METHODS) {
      const scores = matchTemplate(image, template, method);
      assertClose(
        flatten(scores),
        flatten(bruteForce(image, template, method)),
        SCORE_TOLERANCE,
      );
    }
  });
});

describe("matchTemplate repeated calls", () => {
  // matchTemplate keeps work arrays between calls, so a call must neither read what an
  // earlier call left in them nor change scores it returned
  it("matches OpenCV after a larger call", () => {
    matchTemplate(randomImage(60, 70, 3), randomImage(8, 9, 4), "TM_CCOEFF_NORMED");
    for (const method of METHODS) {
      const scores = matchTemplate(TM_IMAGE, TEMPLATES.t22, method);
      assertClose(flatten(scores), OPENCV.t22[method].flat(), FLOAT32_TOLERANCE);
    }
  });

  it("matches the brute-force formula after a larger call", () => {
    const image = randomImage(20, 25, 8);
    const template = crop(image, 4, 5, 5, 6);
    for (const method of METHODS) {
      matchTemplate(randomImage(60, 70, 9), randomImage(8, 9, 10), method);
      assertClose(
        flatten(matchTemplate(image, template, method)),
        flatten(bruteForce(image, template, method)),
        SCORE_TOLERANCE,
      );
    }
  });

  it("leaves earlier scores unchanged", () => {
    const image = randomImage(30, 40, 5);
    const template = crop(image, 10, 12, 6, 7);
    const first = matchTemplate(image, template, "TM_CCOEFF_NORMED");
    const expected = flatten(first);
    matchTemplate(randomImage(50, 50, 6), randomImage(5, 5, 7), "TM_CCORR_NORMED");
    assert.deepEqual(flatten(first), expected);
  });
});

describe("matchTemplate zero variance", () => {
  it("scores constant windows 0 like OpenCV", () => {
    const scores = matchTemplate(TM_IMAGE, TEMPLATES.t22, "TM_CCOEFF_NORMED");
    // windows inside the 4 x 4 patch of 5s
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        assert.equal(scores[r][c], 0);
        assert.equal(OPENCV.t22.TM_CCOEFF_NORMED[r][c], 0);
      }
    }
  });

  it("scores zero windows 0 like OpenCV", () => {
    const scores = matchTemplate(TM_IMAGE, TEMPLATES.t22, "TM_CCORR_NORMED");
    assert.deepEqual([scores[4][0], scores[4][1]], [0, 0]);
    assert.deepEqual(
      [OPENCV.t22.TM_CCORR_NORMED[4][0], OPENCV.t22.TM_CCORR_NORMED[4][1]],
      [0, 0],
    );
  });

  it("scores a nearly constant window that OpenCV zeroes", () => {
    const scores = matchTemplate(NEAR_FLAT, TEMPLATES.t22, "TM_CCOEFF_NORMED");
    // window (0, 0) deviates by a * [3, -1, -1, -1] / 4, the template by
    // [-0.5, 0.5, 1.5, -1.5], so the score is -0.5 a / (a sqrt(12) / 4 * sqrt(5))
    const expected = -0.5 / ((Math.sqrt(12) / 4) * Math.sqrt(5));
    assert.ok(Math.abs(scores[0][0] - expected) < SCORE_TOLERANCE, `${scores[0][0]}`);
    assert.equal(OPENCV_NEAR_FLAT[0][0], 0);
    assertClose(scores[2][2], OPENCV_NEAR_FLAT[2][2], FLOAT32_TOLERANCE);
    assert.equal(scores[1][1], 0);
  });

  it("scores a constant template 0, not 1", () => {
    const scores = matchTemplate(TM_IMAGE, TEMPLATES.flat, "TM_CCOEFF_NORMED");
    assert.ok(flatten(scores).every((v) => v === 0));
    assert.ok(OPENCV.flat.TM_CCOEFF_NORMED.flat().every((v) => v === 1));
  });

  it("scores an all-zero template 0 under both methods", () => {
    for (const method of METHODS) {
      assert.ok(
        flatten(matchTemplate(TM_IMAGE, TEMPLATES.zero, method)).every((v) => v === 0),
      );
    }
    assert.ok(OPENCV.zero.TM_CCORR_NORMED.flat().every((v) => v === 0));
    assert.ok(OPENCV.zero.TM_CCOEFF_NORMED.flat().every((v) => v === 1));
  });

  it("scores a 1 x 1 template 0 under TM_CCOEFF_NORMED", () => {
    const scores = matchTemplate(TM_IMAGE, [[3]], "TM_CCOEFF_NORMED");
    assert.ok(flatten(scores).every((v) => v === 0));
  });

  it("scores inexact constant windows exactly 0", () => {
    // 0.1 has no exact binary form, so the table sums of a flat window do not cancel exactly
    const image = randomImage(64, 64, 3).map((row, r) =>
      row.map((v, c) => (r < 32 && c < 40 ? 0.1 : v)),
    );
    const template = crop(image, 40, 10, 8, 8);
    for (const method of METHODS) {
      const scores = matchTemplate(image, template, method);
      assertAllFinite(scores);
      if (method === "TM_CCOEFF_NORMED") {
        for (let r = 0; r <= 32 - 8; r++) {
          for (let c = 0; c <= 40 - 8; c++)
            assert.equal(scores[r][c], 0, `window (${r}, ${c})`);
        }
      }
    }
  });

  it("stays finite on a constant image", () => {
    const image = Array.from({ length: 20 }, () => new Array<number>(20).fill(7));
    for (const method of METHODS) {
      for (const template of [TEMPLATES.t33, TEMPLATES.flat, TEMPLATES.zero]) {
        assertAllFinite(matchTemplate(image, template, method));
      }
    }
  });

  it("returns finite scores for an all-zero image", () => {
    const image = Array.from({ length: 10 }, () => new Array<number>(12).fill(0));
    for (const method of METHODS) {
      const scores = matchTemplate(image, TEMPLATES.t23, method);
      assert.ok(flatten(scores).every((v) => v === 0));
    }
  });
});

describe("matchTemplate finds a planted template", () => {
  const image = randomImage(60, 70, 4);
  for (const [rows, cols] of [
    [7, 8],
    [8, 7],
    [9, 9],
    [60, 70],
  ]) {
    for (const [top, left] of [
      [0, 0],
      [21, 33],
      [60 - rows, 70 - cols],
    ]) {
      for (const method of METHODS) {
        it(`template ${rows}x${cols} at (${top}, ${left}), ${method}`, () => {
          const scores = matchTemplate(image, crop(image, top, left, rows, cols), method);
          assert.deepEqual(argmax2d(scores), [top, left]);
          assert.ok(Math.abs(scores[top][left] - 1) < SCORE_TOLERANCE);
        });
      }
    }
  }
});

describe("matchTemplate normalization", () => {
  const image = randomImage(40, 50, 5);
  const template = crop(image, 11, 17, 9, 6);

  it("reaches 1 on a scaled copy of the template", () => {
    const scaled = template.map((row) => row.map((v) => 2.5 * v));
    for (const method of METHODS) {
      const scores = matchTemplate(image, scaled, method);
      assert.ok(
        Math.abs(scores[11][17] - 1) < SCORE_TOLERANCE,
        `${method}: ${scores[11][17]}`,
      );
    }
  });

  it("reaches 1 on a re-lit template copy", () => {
    const changed = template.map((row) => row.map((v) => 0.3 * v - 4));
    const scores = matchTemplate(image, changed, "TM_CCOEFF_NORMED");
    assert.ok(Math.abs(scores[11][17] - 1) < SCORE_TOLERANCE);
  });

  it("ignores image brightness and contrast", () => {
    const reference = flatten(matchTemplate(image, template, "TM_CCOEFF_NORMED"));
    const brighter = image.map((row) => row.map((v) => 3 * v + 100));
    assertClose(
      flatten(matchTemplate(brighter, template, "TM_CCOEFF_NORMED")),
      reference,
      SCORE_TOLERANCE,
    );
    const inverted = image.map((row) => row.map((v) => -2 * v + 1));
    assertClose(
      flatten(matchTemplate(inverted, template, "TM_CCOEFF_NORMED")),
      reference.map((v) => -v),
      SCORE_TOLERANCE,
    );
  });

  it("ignores image contrast under TM_CCORR_NORMED", () => {
    const reference = flatten(matchTemplate(image, template, "TM_CCORR_NORMED"));
    const scaled = image.map((row) => row.map((v) => 0.01 * v));
    assertClose(
      flatten(matchTemplate(scaled, template, "TM_CCORR_NORMED")),
      reference,
      SCORE_TOLERANCE,
    );
  });

  it("depends on brightness under TM_CCORR_NORMED", () => {
    const reference = matchTemplate(image, template, "TM_CCORR_NORMED");
    const brighter = image.map((row) => row.map((v) => v + 5));
    const shifted = matchTemplate(brighter, template, "TM_CCORR_NORMED");
    assert.ok(Math.abs(shifted[0][0] - reference[0][0]) > 0.01);
  });
});

describe("matchTemplate at extreme magnitudes", () => {
  // By hand: the windows [1, 2], [2, 3] and [3, 1] of [1, 2, 3, 1] against [1, 3]. Centred,
  // each is a positive or negative multiple of [-1, 1], so TM_CCOEFF_NORMED is 1, 1, -1.
  // TM_CCORR_NORMED is (a + 3b) / (sqrt(a^2 + b^2) sqrt(10)) for the window [a, b].
  const ccorr = [7 / Math.sqrt(50), 11 / Math.sqrt(130), 6 / Math.sqrt(100)];

  for (const scale of [1e150, 1e155, 1e300, 1e-160, 1e-300]) {
    it(`scores image and template scaled by ${scale} as at scale 1`, () => {
      const image = [[1, 2, 3, 1].map((v) => v * scale)];
      const template = [[1, 3].map((v) => v * scale)];

      assertClose(
        matchTemplate(image, template, "TM_CCOEFF_NORMED")[0],
        [1, 1, -1],
        1e-12,
      );
      assertClose(matchTemplate(image, template, "TM_CCORR_NORMED")[0], ccorr, 1e-12);
    });
  }
});

describe("matchTemplate output", () => {
  it("has (H - h + 1) x (W - w + 1) entries", () => {
    const scores = matchTemplate(
      randomImage(13, 17, 6),
      TEMPLATES.t23,
      "TM_CCORR_NORMED",
    );
    assert.equal(scores.length, 13 - 2 + 1);
    assert.equal(scores[0].length, 17 - 3 + 1);
  });

  it("has one entry for a template as large as the image", () => {
    const image = randomImage(5, 4, 7);
    assert.deepEqual(
      matchTemplate(
        image,
        image.map((row) => Array.from(row)),
        "TM_CCOEFF_NORMED",
      ).length,
      1,
    );
  });

  it("returns rows of the image's row type", () => {
    const image = randomImage(4, 4, 8);
    assert.ok(
      matchTemplate(image, TEMPLATES.t22, "TM_CCORR_NORMED")[0] instanceof Float64Array,
    );
    const arrays = image.map((row) => Array.from(row));
    assert.ok(Array.isArray(matchTemplate(arrays, TEMPLATES.t22, "TM_CCORR_NORMED")[0]));
    const floats = image.map((row) => Float32Array.from(row));
    assert.ok(
      matchTemplate(floats, TEMPLATES.t22, "TM_CCORR_NORMED")[0] instanceof Float32Array,
    );
  });
});

describe("matchTemplate input checks", () => {
  it("throws when the template is larger than the image", () => {
    assert.throws(
      () => matchTemplate(TM_IMAGE, new Array(7).fill([1, 2]), "TM_CCORR_NORMED"),
      /^AekitError: matchTemplate: template must be no larger than the image \(6 x 7\) in either dimension, got 7 x 2$/,
    );
  });

  it("throws when the template is empty", () => {
    assert.throws(
      () => matchTemplate(TM_IMAGE, [], "TM_CCORR_NORMED"),
      /^AekitError: matchTemplate: template must be a non-empty array of rows, got an array of length 0$/,
    );
  });

  it("throws when image rows are ragged", () => {
    assert.throws(
      () => matchTemplate([[1, 2], [3]], [[1]], "TM_CCORR_NORMED"),
      /^AekitError: matchTemplate: image\[1\] must have the same length as image\[0\] \(2\), got an array of length 1$/,
    );
  });

  it("throws when a pixel is NaN", () => {
    assert.throws(
      () => matchTemplate([[1, NaN]], [[1]], "TM_CCOEFF_NORMED"),
      /^AekitError: matchTemplate: image\[0\]\[1\] must be a finite number, got NaN$/,
    );
  });

  it("throws when a template value is a string", () => {
    assert.throws(
      () => matchTemplate([[1, 2]], [["1"]] as unknown as number[][], "TM_CCOEFF_NORMED"),
      /^AekitError: matchTemplate: template\[0\]\[0\] must be a finite number, got "1"$/,
    );
  });

  it("throws when the method is unknown", () => {
    assert.throws(
      () => matchTemplate(TM_IMAGE, TEMPLATES.t22, "TM_SQDIFF" as TemplateMethod),
      /^AekitError: matchTemplate: method must be one of 'TM_CCORR_NORMED', 'TM_CCOEFF_NORMED', got "TM_SQDIFF"$/,
    );
  });

  it("throws when the method is missing", () => {
    assert.throws(
      () =>
        matchTemplate(TM_IMAGE, TEMPLATES.t22, undefined as unknown as TemplateMethod),
      /^AekitError: matchTemplate: method must be one of 'TM_CCORR_NORMED', 'TM_CCOEFF_NORMED', got undefined$/,
    );
  });
});
