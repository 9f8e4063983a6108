import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { contractivePenalty } from "../lib/src/losses/contractive";
import { mse, psnr } from "../lib/src/losses/reconstruction";
import { klSparsityPenalty, l1ActivityPenalty } from "../lib/src/losses/sparsity";
import { assertWithinPrecision } from "./helpers";

/** Runs `compute`, reads and disposes its scalar, and asserts that no tensor leaked. */
function readScalarWithoutLeaks(compute: () => tf.Scalar): number {
  const before = tf.memory().numTensors;
  const scalar = compute();
  assert.equal(
    tf.memory().numTensors,
    before + 1,
    "expected exactly one new tensor, the result",
  );
  const value = scalar.dataSync()[0];
  scalar.dispose();
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  return value;
}

// The inputs of test/oracles/linalg_losses.py and the values it prints (numpy 1.24).
const RHO = 0.05;
const RHO_HAT = [0.1, 0.02, 0.5, 0, 1];
const KL_PER_UNIT = [
  0.016706501178764745, 0.01627847887717819, 0.4946319372140727, 0.5986041275468963,
  14.946750657849394,
];
const KL_SUM = 16.072971702666308;
const CONTRACTIVE_W = [
  [0.5, -1.0, 0.25],
  [1.5, 0.0, -0.5],
  [-0.75, 2.0, 1.0],
  [0.1, 0.3, -1.2],
];
const CONTRACTIVE_B = [0.1, -0.2, 0.3];
const CONTRACTIVE_X = [
  [1.0, 0.0, -1.0, 0.5],
  [0.2, 0.4, 0.6, 0.8],
];
const CONTRACTIVE_VALUE = 0.36066830290935337;

/** Computes the contractive penalty in float64 by its closed form. */
function contractiveFloat64(W: number[][], b: number[], x: number[][]): number {
  let total = 0;
  for (const row of x) {
    b.forEach((bias, j) => {
      const z = row.reduce((sum, xi, i) => sum + xi * W[i][j], bias);
      const h = 1 / (1 + Math.exp(-z));
      total += (h * (1 - h)) ** 2 * W.reduce((sum, wi) => sum + wi[j] ** 2, 0);
    });
  }
  return total / x.length;
}

describe("klSparsityPenalty", () => {
  it("matches the formula by hand for rho = 0.5", () => {
    // KL(0.5 || 0.5) = 0 and KL(0.5 || 0.25) = 0.5 ln(0.5 / 0.25) + 0.5 ln(0.5 / 0.75)
    const expected = 0.5 * Math.log(2) + 0.5 * Math.log(2 / 3);
    assertWithinPrecision(klSparsityPenalty(0.5, [0.5, 0.25]), expected, "float64");
    const rhoHat = tf.tensor1d([0.5, 0.25]);
    assertWithinPrecision(
      readScalarWithoutLeaks(() => klSparsityPenalty(0.5, rhoHat)),
      expected,
      "float32",
    );
    rhoHat.dispose();
  });

  it("matches numpy, finite at rhoHat 0 and 1", () => {
    assertWithinPrecision(klSparsityPenalty(RHO, RHO_HAT), KL_SUM, "float64");
    RHO_HAT.forEach((rhoHat, j) =>
      assertWithinPrecision(klSparsityPenalty(RHO, [rhoHat]), KL_PER_UNIT[j], "float64"),
    );
    const rhoHat = tf.tensor1d(RHO_HAT);
    assertWithinPrecision(
      readScalarWithoutLeaks(() => klSparsityPenalty(RHO, rhoHat)),
      KL_SUM,
      "float32",
    );
    rhoHat.dispose();
  });

  it("has the analytic gradient, finite at rhoHat 0 and 1", () => {
    const before = tf.memory().numTensors;
    const rhoHat = tf.tensor1d([0.1, 0.5, 0.9, 0, 1]);
    const gradient = tf.grad((r: tf.Tensor) => klSparsityPenalty(RHO, r as tf.Tensor1D))(
      rhoHat,
    );
    const values = Array.from(gradient.dataSync());
    tf.dispose([rhoHat, gradient]);
    assert.equal(tf.memory().numTensors, before);
    // d/dr KL(rho || r) = -rho / r + (1 - rho) / (1 - r). The clamp makes it 0 at r = 0 and 1.
    const expected = [0.1, 0.5, 0.9].map((r) => -RHO / r + (1 - RHO) / (1 - r));
    assertWithinPrecision(values.slice(0, 3), expected, "float32");
    assert.deepEqual(values.slice(3), [0, 0]);
  });

  it("is zero when every unit's mean activation is rho", () => {
    assert.equal(klSparsityPenalty(RHO, [RHO, RHO]), 0);
  });

  it("throws when rho is outside (0, 1)", () => {
    for (const rho of [0, 1, 1.5, -0.1]) {
      assert.throws(() => klSparsityPenalty(rho, [0.5]), {
        name: "AekitError",
        message: new RegExp(
          `^klSparsityPenalty: rho must be in the open interval \\(0, 1\\), got ${rho}$`,
        ),
      });
    }
    assert.throws(() => klSparsityPenalty(NaN, [0.5]), {
      message: /^klSparsityPenalty: rho must be a finite number, got NaN$/,
    });
  });

  it("throws when a rhoHat entry is outside [0, 1] or NaN", () => {
    assert.throws(() => klSparsityPenalty(RHO, [0.5, 1.2]), {
      message:
        /^klSparsityPenalty: rhoHat\[1\] must be a number in \[0, 1\] \(a mean activation\), got 1.2$/,
    });
    assert.throws(() => klSparsityPenalty(RHO, [NaN]), {
      message: /rhoHat\[0\] must be a number in \[0, 1\].*got NaN$/,
    });
  });

  it("throws when rhoHat is not 1-D", () => {
    const activations = tf.zeros([2, 3]);
    assert.throws(() => klSparsityPenalty(RHO, activations as tf.Tensor1D), {
      message:
        /^klSparsityPenalty: rhoHat must be a 1-D tensor \[units\], got a tensor of shape \[2, 3\]$/,
    });
    activations.dispose();
  });
});

describe("l1ActivityPenalty", () => {
  it("sums |h| over units and averages over the batch", () => {
    // (|1| + |-2| + |3| + |0|) / 2 examples
    const h = [
      [1, -2],
      [3, 0],
    ];
    assert.equal(l1ActivityPenalty(h), (1 + 2 + 3 + 0) / 2);
    const tensor = tf.tensor2d(h);
    assertWithinPrecision(
      readScalarWithoutLeaks(() => l1ActivityPenalty(tensor)),
      3,
      "float32",
    );
    tensor.dispose();
  });

  it("does not change when the batch is repeated", () => {
    const h = [
      [0.5, -0.25, 1],
      [-2, 0, 0.75],
    ];
    assertWithinPrecision(
      l1ActivityPenalty([...h, ...h]),
      l1ActivityPenalty(h),
      "float64",
    );
  });

  it("sums over every axis after the first of a rank-3 tensor", () => {
    const h = tf.tensor3d([
      [
        [1, -1],
        [2, 0],
      ],
      [
        [0, 0],
        [0, -4],
      ],
    ]);
    assertWithinPrecision(
      readScalarWithoutLeaks(() => l1ActivityPenalty(h)),
      (4 + 4) / 2,
      "float32",
    );
    h.dispose();
  });

  it("throws when rows are ragged", () => {
    assert.throws(() => l1ActivityPenalty([[1, 2], [3]]), {
      name: "AekitError",
      message:
        /^l1ActivityPenalty: h\[1\] must have length 2 like h\[0\], got an array of length 1$/,
    });
  });

  it("throws when an entry is NaN", () => {
    assert.throws(() => l1ActivityPenalty([[1, NaN]]), {
      message: /^l1ActivityPenalty: h\[0\]\[1\] must be a finite number, got NaN$/,
    });
  });

  it("throws when h has no batch axis", () => {
    const h = tf.tensor1d([1, 2]);
    assert.throws(() => l1ActivityPenalty(h), {
      message:
        /^l1ActivityPenalty: h must be a tensor \[batch, units, \.\.\.\] with at least one example/,
    });
    h.dispose();
  });
});

describe("contractivePenalty", () => {
  it("matches the closed form by hand at x = 0, b = 0", () => {
    // h = sigmoid(0) = 0.5, so (h (1 - h))^2 = 0.0625 for both units. The kernel's
    // column sums of squares are 1 + 9 = 10 and 4 + 16 = 20.
    const [W, b, x] = [
      tf.tensor2d([
        [1, 2],
        [3, 4],
      ]),
      tf.tensor1d([0, 0]),
      tf.tensor2d([[0, 0]]),
    ];
    assertWithinPrecision(
      readScalarWithoutLeaks(() => contractivePenalty(W, b, x)),
      0.0625 * (10 + 20),
      "float32",
    );
    tf.dispose([W, b, x]);
  });

  it("matches numpy on a 2x4 batch", () => {
    const [W, b, x] = [
      tf.tensor2d(CONTRACTIVE_W),
      tf.tensor1d(CONTRACTIVE_B),
      tf.tensor2d(CONTRACTIVE_X),
    ];
    assertWithinPrecision(
      readScalarWithoutLeaks(() => contractivePenalty(W, b, x)),
      CONTRACTIVE_VALUE,
      "float32",
    );
    tf.dispose([W, b, x]);
  });

  it("matches the Jacobian norm from tf.grad", () => {
    const [inputs, hidden, batch] = [5, 3, 4];
    const W = tf.randomNormal([inputs, hidden], 0, 1, "float32", 11) as tf.Tensor2D;
    const b = tf.randomNormal([hidden], 0, 1, "float32", 12) as tf.Tensor1D;
    const x = tf.randomNormal([batch, inputs], 0, 1, "float32", 13) as tf.Tensor2D;
    const encode = (input: tf.Tensor) => tf.sigmoid(tf.add(tf.matMul(input, W), b));
    // row j of each example's Jacobian is the gradient of h_j, summed over the batch
    // because the examples do not interact
    let squaredNorms = 0;
    for (let j = 0; j < hidden; j++) {
      const norm = tf.tidy(() => {
        const row = tf.grad((input: tf.Tensor) =>
          tf.sum(tf.slice(encode(input), [0, j], [batch, 1])),
        )(x);
        return tf.sum(tf.square(row));
      });
      squaredNorms += norm.dataSync()[0];
      norm.dispose();
    }
    const value = readScalarWithoutLeaks(() => contractivePenalty(W, b, x));
    assertWithinPrecision(value, squaredNorms / batch, "float32");
    tf.dispose([W, b, x]);
  });

  it("has gradients that match float64 finite differences", () => {
    const W = tf.variable(tf.tensor2d(CONTRACTIVE_W));
    const b = tf.variable(tf.tensor1d(CONTRACTIVE_B));
    const x = tf.tensor2d(CONTRACTIVE_X);
    const { value, grads } = tf.variableGrads(() => contractivePenalty(W, b, x), [W, b]);
    const gradW = grads[W.name].arraySync() as number[][];
    const gradB = grads[b.name].arraySync() as number[];
    tf.dispose([value, W, b, x, ...Object.values(grads)]);

    // central differences with step 1e-6 are accurate to about 1e-10 in float64
    const step = 1e-6;
    const shifted = (i: number, j: number, delta: number) =>
      contractiveFloat64(
        CONTRACTIVE_W.map((row, r) =>
          row.map((w, c) => (r === i && c === j ? w + delta : w)),
        ),
        CONTRACTIVE_B,
        CONTRACTIVE_X,
      );
    const numericW = CONTRACTIVE_W.map((row, i) =>
      row.map((_, j) => (shifted(i, j, step) - shifted(i, j, -step)) / (2 * step)),
    );
    const numericB = CONTRACTIVE_B.map((_, j) => {
      const at = (delta: number) =>
        contractiveFloat64(
          CONTRACTIVE_W,
          CONTRACTIVE_B.map((v, c) => (c === j ? v + delta : v)),
          CONTRACTIVE_X,
        );
      return (at(step) - at(-step)) / (2 * step);
    });
    assertWithinPrecision(gradW, numericW, "float32");
    assertWithinPrecision(gradB, numericB, "float32");
  });

  it("throws when W is not 2-D", () => {
    const [W, b, x] = [tf.zeros([3]), tf.zeros([2]), tf.zeros([1, 3])];
    assert.throws(
      () => contractivePenalty(W as tf.Tensor2D, b as tf.Tensor1D, x as tf.Tensor2D),
      {
        name: "AekitError",
        message:
          /^contractivePenalty: W must be a 2-D tensor \[inputs, hidden\], got a tensor of shape \[3\]$/,
      },
    );
    tf.dispose([W, b, x]);
  });

  it("throws when b does not match the hidden units of W", () => {
    const [W, b, x] = [tf.zeros([3, 2]), tf.zeros([3]), tf.zeros([1, 3])];
    assert.throws(
      () => contractivePenalty(W as tf.Tensor2D, b as tf.Tensor1D, x as tf.Tensor2D),
      {
        message:
          /^contractivePenalty: b must be a 1-D tensor \[2\] \(hidden units of W \[3, 2\]\), got a tensor of shape \[3\]$/,
      },
    );
    tf.dispose([W, b, x]);
  });

  it("throws when x does not match the inputs of W", () => {
    const [W, b, x] = [tf.zeros([3, 2]), tf.zeros([2]), tf.zeros([1, 4])];
    assert.throws(
      () => contractivePenalty(W as tf.Tensor2D, b as tf.Tensor1D, x as tf.Tensor2D),
      {
        message:
          /^contractivePenalty: x must be a 2-D tensor \[batch, 3\] \(inputs of W \[3, 2\]\), batch >= 1, got a tensor of shape \[1, 4\]$/,
      },
    );
    tf.dispose([W, b, x]);
  });
});

describe("mse and psnr", () => {
  const clean = [
    [0, 1],
    [0.5, 0.25],
  ];
  const noisy = [
    [0.5, 0.5],
    [0.5, 0.25],
  ];
  // (0.5^2 + 0.5^2 + 0 + 0) / 4
  const expectedMse = (0.25 + 0.25) / 4;

  it("computes the mean squared error of arrays and tensors", () => {
    assert.equal(mse(clean, noisy), expectedMse);
    assert.equal(mse([0, 1], [1, 1]), 0.5);
    const [a, b] = [tf.tensor2d(clean), tf.tensor2d(noisy)];
    assertWithinPrecision(
      readScalarWithoutLeaks(() => mse(a, b)),
      expectedMse,
      "float32",
    );
    tf.dispose([a, b]);
  });

  it("computes psnr in decibels for pixels in [0, 1] and [0, 255]", () => {
    assertWithinPrecision(
      psnr(clean, noisy),
      10 * Math.log10(1 / expectedMse),
      "float64",
    );
    // MSE = (10^2 + 5^2) / 2 = 62.5
    assertWithinPrecision(
      psnr([0, 255], [10, 250], 255),
      10 * Math.log10((255 * 255) / 62.5),
      "float64",
    );
  });

  it("gives the same psnr for tensors without leaks", () => {
    const before = tf.memory().numTensors;
    const [a, b] = [tf.tensor2d(clean), tf.tensor2d(noisy)];
    assertWithinPrecision(psnr(a, b), psnr(clean, noisy), "float32");
    tf.dispose([a, b]);
    assert.equal(tf.memory().numTensors, before);
  });

  it("returns Infinity for identical inputs", () => {
    assert.equal(psnr(clean, clean), Infinity);
  });

  it("throws when the shapes differ", () => {
    assert.throws(() => mse(clean, [[0, 1]]), {
      name: "AekitError",
      message:
        /^mse: prediction must have the shape of target, \[2, 2\], got an array of length 1$/,
    });
    const [a, b] = [tf.zeros([2, 2]), tf.zeros([4])];
    assert.throws(() => psnr(a, b), {
      message:
        /^psnr: test must have the shape of clean, \[2, 2\], got a tensor of shape \[4\]$/,
    });
    tf.dispose([a, b]);
  });

  it("throws when a tensor meets an array", () => {
    const a = tf.zeros([2, 2]);
    assert.throws(() => mse(a, clean as unknown as tf.Tensor), {
      message:
        /^mse: prediction must be a tf.Tensor like target, got an array of length 2$/,
    });
    assert.throws(() => psnr(clean, a), {
      message: /^psnr: test must be an array like clean, got a tensor/,
    });
    a.dispose();
  });

  it("throws when an entry is NaN or rows are ragged", () => {
    assert.throws(() => mse([0, NaN], [0, 0]), {
      message: /^mse: target\[1\] must be a finite number, got NaN$/,
    });
    assert.throws(() => psnr([[0, 1], [0]], [[0, 1], [0]]), {
      message:
        /^psnr: clean\[1\] must have length 2 like clean\[0\], got an array of length 1$/,
    });
  });

  it("throws when maxValue is not positive", () => {
    assert.throws(() => psnr(clean, noisy, 0), {
      message: /^psnr: maxValue must be > 0, got 0$/,
    });
  });
});
