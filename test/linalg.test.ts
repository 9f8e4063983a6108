import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { principalAngles } from "../lib/src/linalg/angles";
import { loadMnistDigits } from "../lib/src/data/mnist";
import { FlatMatrix } from "../lib/src/linalg/dense";
import { pca } from "../lib/src/linalg/pca";
import { assertWithinPrecision } from "./helpers";

function transpose(rows: number[][]): number[][] {
  return rows[0].map((_, j) => rows.map((row) => row[j]));
}

// The inputs of test/oracles/linalg_losses.py, which prints the expected values below.
const PCA_X = [
  [2.0, 0.0, 1.0, -1.0],
  [0.5, 1.5, -2.0, 3.0],
  [1.0, -1.0, 0.0, 2.0],
  [3.0, 2.0, 1.5, 0.0],
  [-1.0, 0.5, 2.5, 1.0],
  [0.0, 1.0, -0.5, -2.0],
];
const WIDE_X = [
  [1.0, 0.0, 2.0, -1.0, 0.5],
  [0.0, 2.0, 1.0, 1.0, -1.0],
  [3.0, 1.0, 0.0, 2.0, 1.5],
];

// numpy 1.24: np.linalg.svd of PCA_X - mean, signs by scikit-learn 1.2's
// svd_flip(u, vt, u_based_decision=False), variance S**2 / (n - 1)
const PCA_X_MEAN = [0.9166666666666666, 0.6666666666666666, 0.4166666666666667, 0.5];
const PCA_X_COMPONENTS = [
  [-0.21565508884446755, -0.04797187115043132, -0.4969562129385852, 0.8391818066757353],
  [-0.6459013247913981, -0.3487070283943557, 0.6494213606754506, 0.1986624858385215],
  [0.6804449935287891, 0.026067482955080434, 0.5391384015859195, 0.49562574695971195],
];
const PCA_X_VARIANCE = [4.189656951446974, 2.2085971982893002, 1.8382719113409116];
const PCA_X_RATIO = [0.4529358866429163, 0.23876726467992443, 0.19873209852334187];
const PCA_X_CODES_FIRST_TWO = [
  [-1.75030893304233, -0.3864196846248803, 0.2908292015050196],
  [3.348811759017421, -1.0942423787015823, -0.32564928127445397],
];
const WIDE_X_COMPONENTS = [
  [
    0.6214382624056399, 0.022268446849078905, -0.390677714922647, 0.5283264355132226,
    0.42609940494431625,
  ],
  [
    -0.3274947422909762, 0.5712055407804066, -0.2604675872497398, 0.5376919632597883,
    -0.4577285359158458,
  ],
];
const WIDE_X_RATIO = [0.6294546022017808, 0.3705453977982192];

// numpy 1.24, same signs: every 10th of the 10,000 digits of loadMnistDigits, centre
// 14x14 pixels, k = 5
const DIGITS_RATIO = [
  0.12763484961505744, 0.07825090619303506, 0.06926208064216066, 0.06213872154578091,
  0.057765997924258385,
];
const DIGITS_LARGEST_INDEX = [99, 148, 171, 47, 103];
const DIGITS_LARGEST_ENTRY = [
  0.12174264022669737, 0.18212738085907498, 0.18244573157673283, 0.20598993353034004,
  0.1782499295085662,
];

/** Returns every 10th digit of loadMnistDigits, cropped to its centre 14x14 pixels. */
function digitCrops(): number[][] {
  const { images, count } = loadMnistDigits();
  const crops: number[][] = [];
  for (let image = 0; image < count; image += 10) {
    const crop: number[] = [];
    for (let row = 7; row < 21; row++) {
      const start = image * 784 + row * 28;
      crop.push(...images.subarray(start + 7, start + 21));
    }
    crops.push(crop);
  }
  return crops;
}

// numpy 1.24: np.random.default_rng(0).standard_normal((6, 3)), then ((6, 2))
const RANDOM_A = [
  [0.1257302210933933, -0.1321048632913019, 0.6404226504432821],
  [0.10490011715303971, -0.535669373161111, 0.36159505490948474],
  [1.3040000451301372, 0.9470809631292422, -0.7037352358069926],
  [-1.2654214710460525, -0.6232744625373522, 0.0413259793472436],
  [-2.3250307746388343, -0.21879166393254573, -1.2459109472530652],
  [-0.7322673547034516, -0.5442589828573099, -0.31630015636915454],
];
const RANDOM_B = [
  [0.4116305363741328, 1.0425133694426776],
  [-0.12853466294403426, 1.3664634705496859],
  [-0.6651946734866135, 0.3515100700930197],
  [0.9034701816518086, 0.09401229776087457],
  [-0.7434992493538084, -0.9217253762584194],
  [-0.45772582566733916, 0.2201951234700494],
];
// scipy 1.10: scipy.linalg.subspace_angles(RANDOM_A, RANDOM_B)
const RANDOM_ANGLES = [0.785597098373612, 0.48654859640772935];
// scipy 1.10: subspace_angles of [a0, 2 a0, a1] (rank 2) and RANDOM_B
const RANK_2_ANGLES = [1.3058789500644483, 0.6027485990121166];

/** Mixes the two columns of a matrix by a rotation, which keeps its column space. */
function mixColumns(rows: number[][], angle = 0.7): number[][] {
  const [c, s] = [Math.cos(angle), Math.sin(angle)];
  return rows.map(([x, y]) => [c * x - s * y, s * x + c * y]);
}

describe("pca", () => {
  it("matches numpy's SVD on a 6x4 matrix", () => {
    const result = pca(PCA_X, 3);
    assertWithinPrecision(result.mean, PCA_X_MEAN, "float64");
    assertWithinPrecision(result.components, PCA_X_COMPONENTS, "float64");
    assertWithinPrecision(result.explainedVariance, PCA_X_VARIANCE, "float64");
    assertWithinPrecision(result.explainedVarianceRatio, PCA_X_RATIO, "float64");
    assertWithinPrecision(
      result.transform(PCA_X.slice(0, 2)),
      PCA_X_CODES_FIRST_TWO,
      "float64",
    );
  });

  it("matches numpy on 1000 real digits", () => {
    const { components, explainedVarianceRatio } = pca(digitCrops(), 5);
    assertWithinPrecision(explainedVarianceRatio, DIGITS_RATIO, "float64");
    components.forEach((component, c) => {
      const largest = component.reduce(
        (best, v, j) => (Math.abs(v) > Math.abs(component[best]) ? j : best),
        0,
      );
      assert.equal(largest, DIGITS_LARGEST_INDEX[c], `largest entry of component ${c}`);
      assertWithinPrecision(component[largest], DIGITS_LARGEST_ENTRY[c], "float64");
    });
  });

  it("matches numpy with fewer samples than features", () => {
    const result = pca(WIDE_X, 2);
    assertWithinPrecision(result.components, WIDE_X_COMPONENTS, "float64");
    assertWithinPrecision(result.explainedVarianceRatio, WIDE_X_RATIO, "float64");
  });

  it("returns orthonormal components", () => {
    const { components } = pca(PCA_X, 4);
    const gram = components.map((a) =>
      components.map((b) => a.reduce((s, v, j) => s + v * b[j], 0)),
    );
    assertWithinPrecision(
      gram,
      [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => (i === j ? 1 : 0))),
      "float64",
    );
  });

  it("makes the largest entry of each component positive", () => {
    for (const component of pca(PCA_X, 4).components) {
      const largest = component.reduce(
        (best, v) => (Math.abs(v) > Math.abs(best) ? v : best),
        0,
      );
      assert.ok(largest > 0, `largest entry ${largest} of [${component}] is negative`);
    }
  });

  it("orders ratios that sum to 1 at k = features", () => {
    const ratios = pca(PCA_X, 4).explainedVarianceRatio;
    ratios
      .slice(1)
      .forEach((ratio, i) =>
        assert.ok(ratio <= ratios[i], `ratio ${i + 1} > ratio ${i}`),
      );
    assertWithinPrecision(
      ratios.reduce((a, b) => a + b, 0),
      1,
      "float64",
    );
  });

  it("reconstructs X exactly with k = features", () => {
    const result = pca(PCA_X, 4);
    assertWithinPrecision(
      result.inverseTransform(result.transform(PCA_X)),
      PCA_X,
      "float64",
    );
  });

  it("gives the same result for a FlatMatrix and a tensor", () => {
    const data = Float64Array.from(PCA_X.flat());
    const fromFlat = pca({ data, shape: [6, 4] }, 3);
    assertWithinPrecision(fromFlat.components, PCA_X_COMPONENTS, "float64");
    const x = tf.tensor2d(PCA_X);
    // the tensor is float32, so its entries (all exact in float32) give float64 results
    const fromTensor = pca(x, 3);
    x.dispose();
    assertWithinPrecision(fromTensor.components, PCA_X_COMPONENTS, "float64");
  });

  it("returns the kind of matrix it transforms", () => {
    const result = pca(PCA_X, 3);
    const flat: FlatMatrix = {
      data: Float32Array.from(PCA_X.slice(0, 2).flat()),
      shape: [2, 4],
    };
    const flatCodes = result.transform(flat);
    assert.ok(flatCodes.data instanceof Float32Array);
    assert.deepEqual(flatCodes.shape, [2, 3]);
    assertWithinPrecision(flatCodes.data, PCA_X_CODES_FIRST_TWO, "float32");

    const before = tf.memory().numTensors;
    const x = tf.tensor2d(PCA_X.slice(0, 2));
    const codes = result.transform(x);
    assert.deepEqual(codes.shape, [2, 3]);
    assertWithinPrecision(codes.arraySync(), PCA_X_CODES_FIRST_TWO, "float32");
    const back = result.inverseTransform(codes);
    assertWithinPrecision(
      back.arraySync(),
      result.inverseTransform(PCA_X_CODES_FIRST_TWO),
      "float32",
    );
    tf.dispose([x, codes, back]);
    assert.equal(tf.memory().numTensors, before);
  });

  it("throws when k is larger than the number of features", () => {
    assert.throws(() => pca(PCA_X, 5), {
      name: "AekitError",
      message:
        /^pca: k must be at most min\(samples, features\) = min\(6, 4\) = 4, got 5$/,
    });
  });

  it("throws when k is larger than the number of samples", () => {
    assert.throws(() => pca(WIDE_X, 4), {
      name: "AekitError",
      message:
        /^pca: k must be at most min\(samples, features\) = min\(3, 5\) = 3, got 4$/,
    });
  });

  it("throws when k is not a positive integer", () => {
    assert.throws(() => pca(PCA_X, 1.5), {
      message: /^pca: k must be an integer, got 1.5$/,
    });
    assert.throws(() => pca(PCA_X, 0), {
      message: /^pca: k must be an integer >= 1, got 0$/,
    });
  });

  it("throws when rows are ragged", () => {
    assert.throws(() => pca([[1, 2], [3, 4], [5]], 1), {
      name: "AekitError",
      message: /^pca: X\[2\] must have length 2 like X\[0\], got an array of length 1$/,
    });
  });

  it("throws when an entry is NaN", () => {
    assert.throws(
      () =>
        pca(
          [
            [1, 2],
            [3, NaN],
          ],
          1,
        ),
      { message: /^pca: X\[1\]\[1\] must be a finite number, got NaN$/ },
    );
    const flat: FlatMatrix = {
      data: Float32Array.from([1, 2, Infinity, 4]),
      shape: [2, 2],
    };
    assert.throws(() => pca(flat, 1), {
      message: /^pca: X\[1\]\[0\] must be a finite number, got Infinity$/,
    });
  });

  it("throws when a FlatMatrix's data does not match its shape", () => {
    const flat: FlatMatrix = { data: new Float64Array(5), shape: [2, 3] };
    assert.throws(() => pca(flat, 1), {
      message: /^pca: X\.data must have shape\[0\] \* shape\[1\] = 6 entries/,
    });
  });

  it("throws when X has fewer than 2 rows", () => {
    assert.throws(() => pca([[1, 2, 3]], 1), {
      message: /^pca: X must have at least 2 rows \(samples\)/,
    });
  });

  it("throws when every row is the same", () => {
    assert.throws(
      () =>
        pca(
          [
            [1, 2],
            [1, 2],
          ],
          1,
        ),
      { message: /^pca: X must vary in at least one feature, got 2 equal rows$/ },
    );
  });

  it("throws when X is neither rows, a FlatMatrix nor a 2-D tensor", () => {
    const x = tf.tensor1d([1, 2, 3]);
    assert.throws(() => pca(x as unknown as tf.Tensor2D, 1), {
      message:
        /^pca: X must be a 2-D tensor \[rows, columns\], got a tensor of shape \[3\]$/,
    });
    x.dispose();
    assert.throws(() => pca("X" as unknown as number[][], 1), {
      message: /^pca: X must be number\[\]\[\]/,
    });
  });

  it("throws when transform gets the wrong number of columns", () => {
    const result = pca(PCA_X, 2);
    assert.throws(() => result.transform([[1, 2, 3]]), {
      message: /^PcaResult\.transform: X must have 4 columns, got an array of length 1$/,
    });
    assert.throws(() => result.inverseTransform([[1, 2, 3]]), {
      message: /^PcaResult\.inverseTransform: Z must have 2 columns/,
    });
  });
});

describe("principalAngles", () => {
  it("finds the angle between two planes in R^3", () => {
    const theta = 0.4;
    const xyPlane = [
      [1, 0],
      [0, 1],
      [0, 0],
    ];
    const tilted = [
      [1, 0],
      [0, Math.cos(theta)],
      [0, Math.sin(theta)],
    ];
    assertWithinPrecision(principalAngles(xyPlane, tilted), [theta, 0], "float64");
  });

  it("keeps the digits of a tiny angle next to a large one", () => {
    // scipy 1.10's subspace_angles returns [1.2, 0] here, because it takes the small
    // angle from its cosine
    const [large, small] = [1.2, 1e-9];
    const A = mixColumns([
      [1, 0],
      [0, 1],
      [0, 0],
      [0, 0],
    ]);
    const B = mixColumns([
      [Math.cos(small), 0],
      [0, Math.cos(large)],
      [Math.sin(small), 0],
      [0, Math.sin(large)],
    ]);
    const angles = principalAngles(A, B);
    assertWithinPrecision(angles[0], large, "float64");
    assertWithinPrecision(angles[1], small, "float64", 0);
  });

  it("matches scipy on a random pair", () => {
    assertWithinPrecision(principalAngles(RANDOM_A, RANDOM_B), RANDOM_ANGLES, "float64");
  });

  it("is symmetric in A and B", () => {
    assertWithinPrecision(principalAngles(RANDOM_B, RANDOM_A), RANDOM_ANGLES, "float64");
  });

  it("uses the rank of a rank-deficient A", () => {
    const A = RANDOM_A.map((row) => [row[0], 2 * row[0], row[1]]);
    assertWithinPrecision(principalAngles(A, RANDOM_B), RANK_2_ANGLES, "float64");
  });

  it("returns zeros for two bases of one subspace", () => {
    const basis = RANDOM_A.map((row) => [row[0], row[1]]);
    assertWithinPrecision(principalAngles(basis, mixColumns(basis)), [0, 0], "float64");
  });

  it("returns pi/2 for orthogonal subspaces", () => {
    const A = [
      [1, 0],
      [0, 1],
      [0, 0],
      [0, 0],
    ];
    const B = [
      [0, 0],
      [0, 0],
      [1, 0],
      [0, 1],
    ];
    assertWithinPrecision(principalAngles(A, B), [Math.PI / 2, Math.PI / 2], "float64");
  });

  it("returns no angles for a zero matrix", () => {
    assert.deepEqual(principalAngles([[0], [0], [0]], RANDOM_B.slice(0, 3)), []);
  });

  it("accepts tensors and leaks none", () => {
    const before = tf.memory().numTensors;
    const [A, B] = [tf.tensor2d(RANDOM_A), tf.tensor2d(RANDOM_B)];
    // the inputs are rounded to float32, so the angles are float32-accurate
    assertWithinPrecision(principalAngles(A, B), RANDOM_ANGLES, "float32");
    tf.dispose([A, B]);
    assert.equal(tf.memory().numTensors, before);
  });

  it("accepts a wide A with more columns than rows", () => {
    const A = [
      [1, 0, 1, 2],
      [0, 1, 1, 3],
    ];
    assertWithinPrecision(principalAngles(A, [[1], [0]]), [0], "float64");
  });

  it("throws when A and B have different numbers of rows", () => {
    assert.throws(() => principalAngles(RANDOM_A, RANDOM_B.slice(0, 5)), {
      name: "AekitError",
      message: /^principalAngles: B must have 6 rows like A, got an array of length 5$/,
    });
  });

  it("throws when rows are ragged", () => {
    assert.throws(() => principalAngles([[1, 0], [0]], [[1], [0]]), {
      message:
        /^principalAngles: A\[1\] must have length 2 like A\[0\], got an array of length 1$/,
    });
  });

  it("throws when an entry is NaN", () => {
    assert.throws(() => principalAngles([[1], [0]], [[NaN], [0]]), {
      message: /^principalAngles: B\[0\]\[0\] must be a finite number, got NaN$/,
    });
  });
});

describe("pca and principalAngles together", () => {
  it("find the plane of points planted in a plane of R^4", () => {
    // points a u + b v with a, b on a grid, plus the mean [1, 2, 3, 4]
    const u = [1, 1, 0, 0].map((v) => v / Math.SQRT2);
    const v = [0, 0, 3, 4].map((x) => x / 5);
    const points: number[][] = [];
    for (let a = -2; a <= 2; a++) {
      for (let b = -1; b <= 1; b++)
        points.push(u.map((ui, j) => 3 * a * ui + b * v[j] + j + 1));
    }
    const { components } = pca(points, 2);
    assertWithinPrecision(
      principalAngles(transpose(components), transpose([u, v])),
      [0, 0],
      "float64",
    );
  });
});
