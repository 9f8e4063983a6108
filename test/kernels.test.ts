import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  conv2dBackpropFilterWasm,
  filterGradientByConv2d,
  filterGradientByMatMul,
} from "../lib/src/backend/conv2d-backprop-filter";
import {
  KIT_KERNELS,
  registerKitKernels,
  tfjsKernelReplacedByKit,
} from "../lib/src/backend/kernels";
import type { KernelArgs } from "../lib/src/backend/kernel-data";
import { maxPoolGrad } from "../lib/src/backend/max-pool-grad";
import { resizeNearestNeighborGrad } from "../lib/src/backend/resize-nearest-neighbor-grad";
import type { BackendName } from "../lib/src/backend/select";
import { AekitError } from "../lib/src/core/errors";
import { makeRng, permutation, type Rng } from "../lib/src/core/random";
import { assertClose, FLOAT32_TOLERANCE } from "./helpers";

// Tolerances, all for float32 forward passes and checked with `assertClose`, which scales
// them by max(1, |expected|).
//
// Central differences with step h: float32 rounds each output to about 6e-8 relative,
// which puts an error of about 6e-8·|L|/h ≈ 1e-5 on the difference quotient of a loss L
// of order 1. The truncation error of a smooth function is h²/6·|f'''|, below 2e-5 for
// the sigmoid. 1e-2 leaves a margin of several hundred over both. The defects of tfjs
// 4.22 checked below (a lost window, a wrong batch element) are off by more than 0.1.
const FD_STEP = 1e-2;
const FD_TOLERANCE = 1e-2;
// Two backends that sum the same float32 products in a different order differ by roughly
// sqrt(terms)·6e-8 relative (an estimate). The sums here have at most a few hundred terms.
const BACKEND_TOLERANCE = FLOAT32_TOLERANCE;

const BACKENDS_UNDER_TEST: readonly BackendName[] = ["cpu", "wasm"];

type Shape = number[];
type Shape4 = [number, number, number, number];
type Shape2 = [number, number];

/** A function of one tensor whose gradient is checked at `point`. */
interface GradientCase {
  shape: Shape;
  point: Float32Array;
  f: (arg: tf.Tensor) => tf.Tensor;
}

/** A named recipe for a GradientCase, built after the backend under test is set. */
interface GradientRecipe {
  name: string;
  build: (rng: Rng) => GradientCase;
}

function sizeOf(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Types a kernel written against KernelArgs as the KernelFunc that tf.registerKernel takes. */
function asKernelFunc(kernel: (args: KernelArgs) => tf.TensorInfo): tf.KernelFunc {
  return kernel as unknown as tf.KernelFunc;
}

function uniform(rng: Rng, shape: Shape, low = -1, high = 1): Float32Array {
  return Float32Array.from({ length: sizeOf(shape) }, () => low + (high - low) * rng());
}

/**
 * Returns distinct values spaced 0.05 apart, centred on 0 and shuffled, so that no
 * finite-difference step of FD_STEP changes which element of a pooling window is largest.
 */
function distinctValues(rng: Rng, shape: Shape): Float32Array {
  const n = sizeOf(shape);
  const order = permutation(n, rng);
  return Float32Array.from(order, (rank) => (rank - n / 2) * 0.05);
}

function minAbs(values: ArrayLike<number>): number {
  let min = Infinity;
  for (let i = 0; i < values.length; i++) min = Math.min(min, Math.abs(values[i]));
  return min;
}

function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]));
  return max;
}

/**
 * Draws arguments until every pre-activation of a ReLU lies farther from 0 than one
 * finite-difference step can move it, so the checked function is linear near the point.
 */
function drawAwayFromKinks<T>(
  rng: Rng,
  draw: (rng: Rng) => T,
  preActivation: (drawn: T) => tf.Tensor,
  maxSlope: (drawn: T) => number,
): T {
  for (let attempt = 0; attempt < 100; attempt++) {
    const drawn = draw(rng);
    const z = tf.tidy(() => preActivation(drawn).dataSync());
    if (minAbs(z) > 2 * FD_STEP * maxSlope(drawn)) return drawn;
  }
  throw new Error("drawAwayFromKinks: no draw in 100 kept the ReLU inputs away from 0");
}

/**
 * Returns the gradient TensorFlow.js computes for L(x) = Σ w·f(x) with fixed random
 * weights w, and the same gradient by central differences of L in float64.
 */
function gradients(
  { shape, point, f }: GradientCase,
  rng: Rng,
): { analytic: Float32Array; numeric: Float64Array } {
  const outShape = tf.tidy(() => f(tf.tensor(point, shape)).shape);
  const weights = uniform(rng, outShape);
  const loss = (values: Float32Array): number =>
    tf.tidy(() => {
      const y = f(tf.tensor(values, shape)).dataSync();
      let sum = 0;
      for (let i = 0; i < y.length; i++) sum += weights[i] * y[i];
      return sum;
    });
  const analytic = tf.tidy(() => {
    const weighted = (x: tf.Tensor) => tf.sum(tf.mul(f(x), tf.tensor(weights, outShape)));
    return tf.grad(weighted)(tf.tensor(point, shape)).dataSync() as Float32Array;
  });

  const numeric = new Float64Array(point.length);
  for (let i = 0; i < point.length; i++) {
    const plus = Float32Array.from(point);
    const minus = Float32Array.from(point);
    plus[i] += FD_STEP;
    minus[i] -= FD_STEP;
    // The step actually taken, after float32 rounding of the perturbed values
    numeric[i] = (loss(plus) - loss(minus)) / (plus[i] - minus[i]);
  }
  return { analytic, numeric };
}

const conv2dInput = (
  xShape: Shape4,
  filterShape: Shape4,
  strides: number,
  pad: "same" | "valid",
): GradientRecipe => ({
  name: `conv2d wrt input, x=${xShape} f=${filterShape} s=${strides} ${pad}`,
  build: (rng) => {
    const filter = uniform(rng, filterShape);
    return {
      shape: xShape,
      point: uniform(rng, xShape),
      f: (x) =>
        tf.conv2d(x as tf.Tensor4D, tf.tensor4d(filter, filterShape), strides, pad),
    };
  },
});

const conv2dFilter = (
  xShape: Shape4,
  filterShape: Shape4,
  strides: number,
  pad: "same" | "valid",
): GradientRecipe => ({
  name: `conv2d wrt filter, x=${xShape} f=${filterShape} s=${strides} ${pad}`,
  build: (rng) => {
    const x = uniform(rng, xShape);
    return {
      shape: filterShape,
      point: uniform(rng, filterShape),
      f: (filter) =>
        tf.conv2d(tf.tensor4d(x, xShape), filter as tf.Tensor4D, strides, pad),
    };
  },
});

/** Runs the forward pass of tf.layers.conv2d with activation 'relu': fused conv2d with bias. */
function reluConv(x: tf.Tensor, filter: tf.Tensor, bias: Float32Array): tf.Tensor {
  return tf.fused.conv2d({
    x: x as tf.Tensor4D,
    filter: filter as tf.Tensor4D,
    strides: 1,
    pad: "same",
    bias: tf.tensor1d(bias),
    activation: "relu",
  });
}

const reluConvRecipes = (xShape: Shape4, filterShape: Shape4): GradientRecipe[] => {
  const draw = (rng: Rng) => ({
    x: uniform(rng, xShape),
    filter: uniform(rng, filterShape),
    bias: uniform(rng, [filterShape[3]], -0.5, 0.5),
  });
  const preActivation = (d: ReturnType<typeof draw>) =>
    tf.add(
      tf.conv2d(tf.tensor4d(d.x, xShape), tf.tensor4d(d.filter, filterShape), 1, "same"),
      tf.tensor1d(d.bias),
    );
  const maxSlope = (d: ReturnType<typeof draw>) =>
    Math.max(maxAbs(d.x), maxAbs(d.filter));
  return [
    {
      name: `fused conv2d + bias + relu wrt input, x=${xShape} f=${filterShape}`,
      build: (rng) => {
        const d = drawAwayFromKinks(rng, draw, preActivation, maxSlope);
        return {
          shape: xShape,
          point: d.x,
          f: (x) => reluConv(x, tf.tensor(d.filter, filterShape), d.bias),
        };
      },
    },
    {
      name: `fused conv2d + bias + relu wrt filter, x=${xShape} f=${filterShape}`,
      build: (rng) => {
        const d = drawAwayFromKinks(rng, draw, preActivation, maxSlope);
        return {
          shape: filterShape,
          point: d.filter,
          f: (filter) => reluConv(tf.tensor(d.x, xShape), filter, d.bias),
        };
      },
    },
  ];
};

/** With `allNegative`, every window's maximum is below 0. */
const maxPool = (
  xShape: Shape,
  size: number,
  strides: number,
  pad: "same" | "valid",
  allNegative = false,
): GradientRecipe => ({
  name:
    `maxPool wrt input, x=${xShape} ${size}x${size} s=${strides} ${pad}` +
    (allNegative ? " all inputs negative" : ""),
  build: (rng) => {
    const point = distinctValues(rng, xShape);
    const shift = allNegative ? -(maxAbs(point) + 1) : 0;
    return {
      shape: xShape,
      point: point.map((value) => value + shift),
      f: (x) => tf.maxPool(x as tf.Tensor4D, size, strides, pad),
    };
  },
});

const resizeNearest = (
  xShape: Shape,
  size: [number, number],
  alignCorners = false,
  halfPixelCenters = false,
): GradientRecipe => ({
  name:
    `resizeNearestNeighbor wrt input, x=${xShape} to ${size}` +
    (alignCorners ? " alignCorners" : "") +
    (halfPixelCenters ? " halfPixelCenters" : ""),
  build: (rng) => ({
    shape: xShape,
    point: uniform(rng, xShape),
    f: (x) =>
      tf.image.resizeNearestNeighbor(
        x as tf.Tensor4D,
        size,
        alignCorners,
        halfPixelCenters,
      ),
  }),
});

const upSampling2dLayer = (xShape: Shape): GradientRecipe => ({
  name: `tf.layers.upSampling2d size [2, 2] wrt input, x=${xShape}`,
  build: (rng) => {
    // A plain number as `size` gives a NaN output shape in tfjs-layers 4.22
    const layer = tf.layers.upSampling2d({ size: [2, 2] });
    return {
      shape: xShape,
      point: uniform(rng, xShape),
      f: (x) => layer.apply(x) as tf.Tensor,
    };
  },
});

/** `filterShape` is [height, width, outChannels, inChannels], as tf.conv2dTranspose takes it. */
const conv2dTransposeRecipes = (
  xShape: Shape4,
  filterShape: Shape4,
  strides: number,
  pad: "same" | "valid",
): GradientRecipe[] => {
  const outShape = (x: Shape4): Shape4 => {
    const grow = (n: number) =>
      pad === "same" ? n * strides : (n - 1) * strides + filterShape[0];
    return [x[0], grow(x[1]), grow(x[2]), filterShape[2]];
  };
  const convT = (x: tf.Tensor, filter: tf.Tensor) =>
    tf.conv2dTranspose(
      x as tf.Tensor4D,
      filter as tf.Tensor4D,
      outShape(xShape),
      strides,
      pad,
    );
  const label = `x=${xShape} f=${filterShape} s=${strides} ${pad}`;
  return [
    {
      name: `conv2dTranspose wrt input, ${label}`,
      build: (rng) => {
        const filter = uniform(rng, filterShape);
        return {
          shape: xShape,
          point: uniform(rng, xShape),
          f: (x) => convT(x, tf.tensor4d(filter, filterShape)),
        };
      },
    },
    {
      name: `conv2dTranspose wrt filter, ${label}`,
      build: (rng) => {
        const x = uniform(rng, xShape);
        return {
          shape: filterShape,
          point: uniform(rng, filterShape),
          f: (filter) => convT(tf.tensor4d(x, xShape), filter),
        };
      },
    },
  ];
};

/** Runs the forward pass of tf.layers.dense: fused matMul with bias, then the activation. */
function dense(x: tf.Tensor, kernel: tf.Tensor, bias: Float32Array, activation: string) {
  const common = {
    a: x as tf.Tensor2D,
    b: kernel as tf.Tensor2D,
    bias: tf.tensor1d(bias),
  };
  if (activation === "relu") return tf.fused.matMul({ ...common, activation: "relu" });
  return tf.sigmoid(tf.fused.matMul(common));
}

const denseRecipes = (batch: number, inputs: number, units: number): GradientRecipe[] => {
  const xShape: Shape2 = [batch, inputs];
  const kernelShape: Shape2 = [inputs, units];
  const draw = (rng: Rng) => ({
    x: uniform(rng, xShape),
    kernel: uniform(rng, kernelShape),
    bias: uniform(rng, [units], -0.5, 0.5),
  });
  const preActivation = (d: ReturnType<typeof draw>) =>
    tf.add(
      tf.matMul(tf.tensor2d(d.x, xShape), tf.tensor2d(d.kernel, kernelShape)),
      tf.tensor1d(d.bias),
    );
  const maxSlope = (d: ReturnType<typeof draw>) =>
    Math.max(maxAbs(d.x), maxAbs(d.kernel));
  const recipes: GradientRecipe[] = [];
  for (const activation of ["sigmoid", "relu"]) {
    const drawFor = (rng: Rng) =>
      activation === "relu"
        ? drawAwayFromKinks(rng, draw, preActivation, maxSlope)
        : draw(rng);
    recipes.push(
      {
        name: `dense + ${activation} wrt input, x=${xShape} kernel=${kernelShape}`,
        build: (rng) => {
          const d = drawFor(rng);
          const kernel = d.kernel;
          return {
            shape: xShape,
            point: d.x,
            f: (x) => dense(x, tf.tensor(kernel, kernelShape), d.bias, activation),
          };
        },
      },
      {
        name: `dense + ${activation} wrt kernel, x=${xShape} kernel=${kernelShape}`,
        build: (rng) => {
          const d = drawFor(rng);
          return {
            shape: kernelShape,
            point: d.kernel,
            f: (kernel) => dense(tf.tensor2d(d.x, xShape), kernel, d.bias, activation),
          };
        },
      },
    );
  }
  return recipes;
};

const GRADIENT_RECIPES: GradientRecipe[] = [
  conv2dInput([2, 5, 5, 3], [3, 3, 3, 4], 1, "same"),
  conv2dInput([2, 6, 6, 2], [3, 3, 2, 3], 2, "valid"),
  conv2dInput([1, 6, 6, 2], [3, 3, 2, 3], 2, "same"),
  conv2dFilter([2, 5, 5, 3], [3, 3, 3, 4], 1, "same"),
  conv2dFilter([2, 6, 6, 2], [3, 3, 2, 3], 2, "valid"),
  conv2dFilter([1, 6, 6, 2], [3, 3, 2, 3], 2, "same"),
  ...reluConvRecipes([2, 4, 4, 2], [3, 3, 2, 3]),
  maxPool([2, 4, 4, 3], 2, 2, "valid"),
  maxPool([2, 4, 4, 3], 2, 2, "valid", true),
  maxPool([1, 5, 5, 2], 3, 2, "same"),
  resizeNearest([3, 3, 3, 2], [6, 6]),
  resizeNearest([2, 3, 3, 1], [5, 5], true, false),
  resizeNearest([2, 3, 3, 1], [5, 5], false, true),
  upSampling2dLayer([2, 3, 3, 2]),
  ...conv2dTransposeRecipes([2, 3, 3, 3], [3, 3, 2, 3], 2, "same"),
  ...conv2dTransposeRecipes([2, 3, 3, 2], [2, 2, 3, 2], 1, "valid"),
  ...denseRecipes(3, 5, 4),
];

/**
 * Returns the active backend, or 'cpu' while none is initialized: in Node, 'cpu' is what
 * TensorFlow.js picks unless this file's import of the wasm backend is loaded.
 */
function activeBackend(): string {
  return tf.getBackend() ?? "cpu";
}

/** Runs `body` on `backendName` with the kit's kernels registered, then restores the backend. */
async function withBackend<T>(backendName: BackendName, body: () => T): Promise<T> {
  const previous = activeBackend();
  assert.ok(
    await tf.setBackend(backendName),
    `backend '${backendName}' failed to initialize`,
  );
  registerKitKernels(backendName);
  try {
    return body();
  } finally {
    await tf.setBackend(previous);
  }
}

/** Adds hooks that make `backendName` active for the enclosing suite, then restore the previous one. */
function onBackend(backendName: BackendName): void {
  let previous: string;
  before(async () => {
    previous = activeBackend();
    assert.ok(
      await tf.setBackend(backendName),
      `backend '${backendName}' failed to initialize`,
    );
    registerKitKernels(backendName);
  });
  after(async () => {
    await tf.setBackend(previous);
  });
}

/** Runs `body` with `kernel` registered in place of `kernelName`, then restores the kernel before it. */
function withKernel<T>(kernel: tf.KernelConfig, body: () => T): T {
  const { kernelName, backendName } = kernel;
  const previous = tf.getKernel(kernelName, backendName);
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel(kernel);
  try {
    return body();
  } finally {
    tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel(previous);
  }
}

describe("backend kernels", () => {
  before(async () => {
    // Loaded here, not at the top of the file: importing it registers the wasm backend
    // with a higher priority than cpu, which would change the backend of other suites.
    await import("@tensorflow/tfjs-backend-wasm");
  });

  for (const backendName of BACKENDS_UNDER_TEST) {
    describe(`gradients on ${backendName} match finite differences`, () => {
      onBackend(backendName);
      GRADIENT_RECIPES.forEach((recipe, index) => {
        it(recipe.name, () => {
          const rng = makeRng(1000 + index);
          const { analytic, numeric } = gradients(recipe.build(rng), rng);
          assertClose(analytic, numeric, FD_TOLERANCE, recipe.name);
        });
      });
    });
  }

  describe("tfjs 4.22 kernels the kit replaces", () => {
    // Each case reruns a finite-difference check with TensorFlow.js's own kernel put back,
    // and asserts that it fails: the defect is still there, so the replacement is needed.
    const defects: {
      backendName: BackendName;
      kernelName: string;
      recipe: GradientRecipe;
    }[] = [
      {
        backendName: "cpu",
        kernelName: "ResizeNearestNeighborGrad",
        recipe: resizeNearest([2, 3, 3, 2], [6, 6]),
      },
      {
        backendName: "wasm",
        kernelName: "MaxPoolGrad",
        recipe: maxPool([2, 4, 4, 3], 2, 2, "valid", true),
      },
      {
        backendName: "wasm",
        kernelName: "ResizeNearestNeighborGrad",
        recipe: resizeNearest([1, 2, 2, 1], [3, 3], false, true),
      },
    ];
    for (const { backendName, kernelName, recipe } of defects) {
      describe(`${backendName} ${kernelName}`, () => {
        onBackend(backendName);
        it(`differs from finite differences: ${recipe.name}`, function () {
          const original = tfjsKernelReplacedByKit(kernelName, backendName);
          if (original === undefined) {
            this.skip(); // this TensorFlow.js release passes the kit's probe
          }
          const largestError = withKernel(original, () => {
            const rng = makeRng(7);
            const { analytic, numeric } = gradients(recipe.build(rng), rng);
            return maxAbs(Array.from(analytic, (a, i) => a - numeric[i]));
          });
          assert.ok(
            largestError > FD_TOLERANCE * 10,
            `tfjs's ${kernelName} on ${backendName} now agrees with finite differences ` +
              `(largest error ${largestError}); the kit's replacement may be unneeded`,
          );
        });
      });
    }
  });

  describe("wasm _FusedMatMul of tfjs 4.22 with a transpose and a bias", () => {
    // The kit's wrapper transposes first, so the bias goes where the cpu backend puts it.
    // This reruns tfjs's own kernel and asserts that its defect is still there.
    it("adds the bias to the wrong rows", async function () {
      const product = () =>
        tf.tidy(() =>
          tf.fused
            .matMul({
              a: tf.tensor2d(
                Array.from({ length: 15 }, (_, i) => Math.sin(i)),
                [3, 5],
              ),
              b: tf.tensor2d(
                Array.from({ length: 20 }, (_, i) => Math.cos(i)),
                [4, 5],
              ),
              transposeB: true,
              bias: tf.tensor1d([1, 2, 3, 4]),
            })
            .dataSync(),
        );
      const onCpu = await withBackend("cpu", product);
      const largestError = await withBackend("wasm", () => {
        const original = tfjsKernelReplacedByKit("_FusedMatMul", "wasm");
        if (original === undefined) this.skip();
        const withKit = product();
        assertClose(withKit, onCpu, BACKEND_TOLERANCE, "the kit's _FusedMatMul");
        const stock = withKernel(original, product);
        return maxAbs(Array.from(stock, (value, i) => value - onCpu[i]));
      });
      assert.ok(
        largestError > 0.5,
        `tfjs's _FusedMatMul now agrees with cpu (largest error ${largestError}); ` +
          "update the note in mat-mul.ts",
      );
    });
  });

  describe("Conv2DBackpropFilter on wasm matches cpu", () => {
    interface FilterGradientConfig {
      xShape: Shape4;
      filterShape: Shape4;
      strides: number;
      pad: "same" | "valid";
    }
    const configs: FilterGradientConfig[] = [];
    for (const strides of [1, 2]) {
      for (const pad of ["same", "valid"] as const) {
        configs.push(
          { xShape: [1, 7, 7, 1], filterShape: [3, 3, 1, 4], strides, pad },
          { xShape: [3, 8, 8, 3], filterShape: [3, 3, 3, 2], strides, pad },
          { xShape: [2, 7, 8, 2], filterShape: [3, 3, 2, 5], strides, pad },
        );
      }
    }

    /** Computes the filter gradient of Σ w·conv2d(x, filter) on `backendName`, seeded. */
    async function filterGradient(
      backendName: BackendName,
      { xShape, filterShape, strides, pad }: FilterGradientConfig,
    ): Promise<Float32Array> {
      const rng = makeRng(5);
      return withBackend(backendName, () =>
        tf.tidy(() => {
          const x = tf.tensor4d(uniform(rng, xShape), xShape);
          const filter = tf.tensor4d(uniform(rng, filterShape), filterShape);
          const outShape = tf.conv2d(x, filter, strides, pad).shape;
          const weights = tf.tensor(uniform(rng, outShape), outShape);
          const loss = (f: tf.Tensor) =>
            tf.sum(tf.mul(tf.conv2d(x, f as tf.Tensor4D, strides, pad), weights));
          return tf.grad(loss)(filter).dataSync() as Float32Array;
        }),
      );
    }

    for (const config of configs) {
      const { xShape, filterShape, strides, pad } = config;
      it(`x=${xShape} f=${filterShape} s=${strides} ${pad}`, async () => {
        const onCpu = await filterGradient("cpu", config);
        const onWasm = await filterGradient("wasm", config);
        assertClose(onWasm, onCpu, BACKEND_TOLERANCE, "filter gradient");
      });
    }

    // The kernel picks a method by channel count and patch matrix size, and the cases
    // above, with at most 3 channels on one side, take the matrix product. So each method
    // is called directly here.
    for (const config of configs.slice(0, 6)) {
      const { xShape, filterShape, strides, pad } = config;
      it(`both methods agree: x=${xShape} f=${filterShape} s=${strides} ${pad}`, async () => {
        const rng = makeRng(9);
        const xValues = uniform(rng, xShape);
        const info = tf.backend_util.computeConv2DInfo(
          xShape,
          filterShape,
          strides,
          1,
          pad,
          undefined,
          false,
          "channelsLast",
        );
        const dyShape = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
        const dyValues = uniform(rng, dyShape);
        const onCpu = await withBackend("cpu", () =>
          tf.tidy(() =>
            (
              tf.engine().runKernel(
                "Conv2DBackpropFilter",
                {
                  x: tf.tensor4d(xValues, xShape),
                  dy: tf.tensor4d(dyValues, dyShape as Shape4),
                },
                { strides, pad, dataFormat: "NHWC", filterShape },
              ) as tf.Tensor
            ).dataSync(),
          ),
        );
        await withBackend("wasm", () => {
          const backend = tf.backend();
          const x = tf.tensor4d(xValues, xShape);
          const dy = tf.tensor4d(dyValues, dyShape as Shape4);
          for (const method of [filterGradientByMatMul, filterGradientByConv2d]) {
            const out = method(backend, x, dy, info);
            assert.deepEqual(out.shape, filterShape, method.name);
            const values = backend.readSync(out.dataId) as Float32Array;
            backend.disposeData(out.dataId);
            assertClose(values, onCpu, BACKEND_TOLERANCE, method.name);
          }
          tf.dispose([x, dy]);
        });
      });
    }
  });

  describe("Conv2DBackpropFilter on wasm, direct calls", () => {
    onBackend("wasm");

    it("leaves no intermediate data on the backend", () => {
      const backend = tf.backend();
      const x = tf.ones([2, 6, 6, 2]);
      const dy = tf.ones([2, 2, 2, 3]);
      const before = backend.numDataIds();
      const attrs = {
        strides: 2,
        pad: "valid",
        dataFormat: "NHWC",
        filterShape: [3, 3, 2, 3],
      };
      const dw = tf
        .engine()
        .runKernel("Conv2DBackpropFilter", { x, dy }, attrs) as tf.Tensor;
      assert.deepEqual(dw.shape, [3, 3, 2, 3]);
      assert.equal(backend.numDataIds(), before + 1, "only the output is new");
      tf.dispose([x, dy, dw]);
    });

    it("rejects NCHW with an AekitError", () => {
      const x = tf.ones([1, 2, 5, 5]);
      const dy = tf.ones([1, 3, 5, 5]);
      const attrs = {
        strides: 1,
        pad: "same",
        dataFormat: "NCHW",
        filterShape: [3, 3, 2, 3],
      };
      assert.throws(
        () =>
          conv2dBackpropFilterWasm({ inputs: { x, dy }, backend: tf.backend(), attrs }),
        (error: unknown) =>
          error instanceof AekitError &&
          /dataFormat must be 'NHWC', got "NCHW"/.test(error.message),
      );
      tf.dispose([x, dy]);
    });

    it("rejects dy of the wrong shape", () => {
      const x = tf.ones([1, 5, 5, 2]);
      const dy = tf.ones([1, 4, 4, 3]);
      const attrs = {
        strides: 1,
        pad: "same",
        dataFormat: "NHWC",
        filterShape: [3, 3, 2, 3],
      };
      assert.throws(
        () =>
          conv2dBackpropFilterWasm({ inputs: { x, dy }, backend: tf.backend(), attrs }),
        /dy must have shape \[1, 5, 5, 3\] .* got \[1, 4, 4, 3\]/,
      );
      tf.dispose([x, dy]);
    });
  });

  describe("faster wasm kernels match cpu", () => {
    /** Runs `compute` on cpu and on wasm with the same seeded inputs and compares. */
    async function assertSameOnBothBackends(
      label: string,
      compute: (rng: Rng) => tf.Tensor,
    ): Promise<void> {
      const run = (backendName: BackendName) =>
        withBackend(backendName, () =>
          tf.tidy(() => {
            const out = compute(makeRng(11));
            return { shape: out.shape, values: out.dataSync() };
          }),
        );
      const onCpu = await run("cpu");
      const onWasm = await run("wasm");
      assert.deepEqual(onWasm.shape, onCpu.shape, `${label}: shape`);
      assertClose(onWasm.values, onCpu.values, BACKEND_TOLERANCE, label);
    }

    const random = (rng: Rng, shape: Shape) => tf.tensor(uniform(rng, shape), shape);

    describe("BatchMatMul and _FusedMatMul", () => {
      const cases: { a: Shape; b: Shape; transposeA: boolean; transposeB: boolean }[] = [
        { a: [5, 7], b: [7, 3], transposeA: false, transposeB: false },
        { a: [7, 5], b: [7, 3], transposeA: true, transposeB: false },
        { a: [5, 7], b: [3, 7], transposeA: false, transposeB: true },
        { a: [7, 5], b: [3, 7], transposeA: true, transposeB: true },
        { a: [2, 7, 5], b: [2, 7, 3], transposeA: true, transposeB: false },
        { a: [2, 5, 7], b: [1, 3, 7], transposeA: false, transposeB: true },
        { a: [2, 7, 5], b: [1, 3, 7], transposeA: true, transposeB: true },
        { a: [128, 40], b: [128, 24], transposeA: true, transposeB: false },
      ];
      for (const { a, b, transposeA, transposeB } of cases) {
        const name = `a=${a}${transposeA ? "ᵀ" : ""} b=${b}${transposeB ? "ᵀ" : ""}`;
        it(`matMul ${name}`, async () => {
          await assertSameOnBothBackends(name, (rng) =>
            tf.matMul(random(rng, a), random(rng, b), transposeA, transposeB),
          );
        });
        // Rank 2 only: the wasm _FusedMatMul of tfjs 4.22 adds the bias to the wrong
        // elements when the operands have a batch axis, transposed or not
        if (a.length > 2) continue;
        it(`fused matMul with bias and relu ${name}`, async () => {
          await assertSameOnBothBackends(name, (rng) => {
            const outShape = tf.matMul(tf.zeros(a), tf.zeros(b), transposeA, transposeB);
            const columns = outShape.shape[outShape.shape.length - 1];
            return tf.fused.matMul({
              a: random(rng, a),
              b: random(rng, b),
              transposeA,
              transposeB,
              bias: random(rng, [columns]),
              activation: "relu",
            });
          });
        });
      }

      it("inner dimension 0 with a transpose", async () => {
        await assertSameOnBothBackends("K = 0", () =>
          tf.matMul(tf.zeros([0, 2]), tf.zeros([0, 3]), true, false),
        );
      });

      it("batch 0 with a transpose", async () => {
        await assertSameOnBothBackends("batch 0", () =>
          tf.matMul(tf.zeros([0, 3, 5]), tf.zeros([0, 7, 5]), false, true),
        );
      });

      it("weight gradient of an empty batch", async () => {
        await assertSameOnBothBackends("dW of no rows", () =>
          tf.grad((w: tf.Tensor) => tf.matMul(tf.zeros([0, 5]), w).sum())(
            tf.ones([5, 4]),
          ),
        );
      });

      it("dense layer gradients", async () => {
        await assertSameOnBothBackends("gradient of x and kernel", (rng) => {
          const x = random(rng, [6, 9]);
          const kernel = random(rng, [9, 4]);
          const bias = random(rng, [4]);
          const weights = random(rng, [6, 4]);
          const loss = (xIn: tf.Tensor, kernelIn: tf.Tensor) =>
            tf.sum(
              tf.mul(
                tf.fused.matMul({
                  a: xIn as tf.Tensor2D,
                  b: kernelIn as tf.Tensor2D,
                  bias,
                  activation: "sigmoid",
                }),
                weights,
              ),
            );
          const [dx, dKernel] = tf.grads(loss)([x, kernel]);
          return tf.concat([dx.flatten(), dKernel.flatten()]);
        });
      });
    });

    describe("GatherV2", () => {
      const cases: { name: string; gather: (rng: Rng) => tf.Tensor }[] = [
        {
          name: "rows of a matrix, with repeats",
          gather: (rng) =>
            tf.gather(random(rng, [6, 5]), tf.tensor1d([4, 0, 4, 5], "int32")),
        },
        {
          name: "2-D indices into a rank-3 tensor",
          gather: (rng) =>
            tf.gather(
              random(rng, [6, 3, 2]),
              tf.tensor2d([1, 2, 3, 5, 0, 0], [2, 3], "int32"),
            ),
        },
        {
          name: "axis -2 of a matrix",
          gather: (rng) =>
            tf.gather(random(rng, [6, 5]), tf.tensor1d([3, 1], "int32"), -2),
        },
        {
          name: "axis 1, left to tfjs",
          gather: (rng) =>
            tf.gather(random(rng, [6, 5]), tf.tensor1d([3, 1], "int32"), 1),
        },
        {
          name: "int32 values",
          gather: () =>
            tf.gather(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], "int32"), [2, 0], 0),
        },
        {
          name: "bool values",
          gather: () =>
            tf
              .gather(tf.tensor1d([1, 0, 1], "bool"), tf.tensor1d([1, 2, 1], "int32"))
              .toInt(),
        },
        {
          name: "no indices",
          gather: (rng) => tf.gather(random(rng, [4, 3]), tf.tensor1d([], "int32")),
        },
        {
          name: "batchDims 1, left to tfjs",
          gather: (rng) =>
            tf.gather(
              random(rng, [2, 4, 3]),
              tf.tensor2d([1, 3, 0, 0], [2, 2], "int32"),
              1,
              1,
            ),
        },
      ];
      for (const { name, gather } of cases) {
        it(name, async () => {
          await assertSameOnBothBackends(name, gather);
        });
      }

      it("rejects axis 2 of a matrix like cpu", async () => {
        for (const backendName of ["cpu", "wasm"] as const) {
          await withBackend(backendName, () => {
            const x = tf.ones([3, 2]);
            const indices = tf.tensor1d([1], "int32");
            assert.throws(() => tf.gather(x, indices, 2), /axis/, backendName);
            tf.dispose([x, indices]);
          });
        }
      });

      it("leaves an index out of range to tfjs's error", async () => {
        await withBackend("wasm", () => {
          const x = tf.ones([3, 2]);
          assert.throws(
            () => tf.gather(x, tf.tensor1d([0, 3], "int32")),
            /the index value 3 is not in \[0, 2\]/,
          );
          x.dispose();
        });
      });
    });

    describe("Conv2DBackpropFilter and MaxPoolGrad edge cases", () => {
      for (const filterShape of [
        [3, 3, 2, 3],
        [3, 3, 6, 6],
      ] as Shape4[]) {
        it(`filter gradient of an empty batch, filter ${filterShape}`, async () => {
          await assertSameOnBothBackends("batch 0", () =>
            tf.grad((w: tf.Tensor) =>
              tf
                .conv2d(
                  tf.zeros([0, 5, 5, filterShape[2]]) as tf.Tensor4D,
                  w as tf.Tensor4D,
                  1,
                  "same",
                )
                .sum(),
            )(tf.ones(filterShape)),
          );
        });
      }

      const poolWindows: { name: string; values: number[] }[] = [
        { name: "a NaN first", values: [NaN, 1, 2, 3] },
        { name: "all -Infinity", values: [-Infinity, -Infinity, -Infinity, -Infinity] },
        { name: "all NaN", values: [NaN, NaN, NaN, NaN] },
        { name: "ties", values: [2, 5, 5, 1] },
      ];
      for (const { name, values } of poolWindows) {
        it(`max pool gradient of a window with ${name}`, async () => {
          await assertSameOnBothBackends(
            name,
            () =>
              tf.engine().runKernel(
                "MaxPoolGrad",
                {
                  dy: tf.ones([1, 1, 1, 1]),
                  input: tf.tensor4d(values, [1, 2, 2, 1]),
                  output: tf.zeros([1, 1, 1, 1]),
                },
                { filterSize: 2, strides: 2, pad: "valid" } as unknown as tf.NamedAttrMap,
              ) as tf.Tensor,
          );
        });
      }

      it("filter gradient rejects int32 x", async () => {
        await withBackend("wasm", () => {
          const x = tf.ones([1, 2, 2, 1], "int32");
          const dy = tf.ones([1, 2, 2, 1]);
          assert.throws(
            () =>
              tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
                strides: 1,
                pad: "same",
                dataFormat: "NHWC",
                filterShape: [1, 1, 1, 1],
              } as unknown as tf.NamedAttrMap),
            (err: unknown) =>
              err instanceof AekitError &&
              /must be float32, got int32 and float32/.test(err.message),
          );
          tf.dispose([x, dy]);
        });
      });
    });

    describe("Sum", () => {
      const cases: { name: string; sum: (rng: Rng) => tf.Tensor }[] = [
        { name: "axis 0 of a matrix", sum: (rng) => tf.sum(random(rng, [6, 5]), 0) },
        {
          name: "three leading axes",
          sum: (rng) => tf.sum(random(rng, [2, 3, 4, 5]), [0, 1, 2]),
        },
        {
          name: "leading axes, unsorted and negative",
          sum: (rng) => tf.sum(random(rng, [2, 3, 4, 5]), [-3, 0]),
        },
        {
          name: "leading axes with keepDims",
          sum: (rng) => tf.sum(random(rng, [3, 4, 5]), [0, 1], true),
        },
        {
          name: "a middle axis, left to tfjs",
          sum: (rng) => tf.sum(random(rng, [3, 4, 5]), 1),
        },
        {
          name: "axes 0 and 2, left to tfjs",
          sum: (rng) => tf.sum(random(rng, [3, 4, 5]), [0, 2]),
        },
        { name: "every axis, left to tfjs", sum: (rng) => tf.sum(random(rng, [3, 4])) },
        {
          name: "int32 values, left to tfjs",
          sum: () => tf.sum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], "int32"), 0),
        },
        { name: "no rows", sum: () => tf.sum(tf.zeros([0, 3]), 0) },
        { name: "rows of no values", sum: () => tf.sum(tf.zeros([3, 0]), 0) },
        { name: "7 rows, 4 at a time", sum: (rng) => tf.sum(random(rng, [7, 9]), 0) },
      ];
      for (const { name, sum } of cases) {
        it(name, async () => {
          await assertSameOnBothBackends(name, sum);
        });
      }
    });

    describe("Conv2DBackpropInput", () => {
      interface InputGradientConfig {
        xShape: Shape4;
        filterShape: Shape4;
        strides: number | [number, number];
        pad: "same" | "valid" | tf.backend_util.ExplicitPadding;
      }
      const configs: InputGradientConfig[] = [];
      for (const strides of [1, 2, [2, 1]] as (number | [number, number])[]) {
        for (const pad of ["same", "valid"] as const) {
          configs.push(
            { xShape: [1, 7, 7, 1], filterShape: [3, 3, 1, 4], strides, pad },
            { xShape: [3, 8, 8, 3], filterShape: [3, 3, 3, 2], strides, pad },
            { xShape: [2, 7, 8, 2], filterShape: [2, 4, 2, 5], strides, pad },
            { xShape: [2, 9, 6, 2], filterShape: [5, 1, 2, 3], strides, pad },
          );
        }
      }
      configs.push(
        {
          xShape: [2, 6, 7, 2],
          filterShape: [3, 3, 2, 3],
          strides: 1,
          pad: [
            [0, 0],
            [1, 2],
            [2, 0],
            [0, 0],
          ],
        },
        {
          xShape: [2, 6, 7, 2],
          filterShape: [3, 3, 2, 3],
          strides: 2,
          pad: [
            [0, 0],
            [0, 1],
            [2, 2],
            [0, 0],
          ],
        },
      );
      for (const { xShape, filterShape, strides, pad } of configs) {
        const name = `x=${xShape} f=${filterShape} s=${strides} ${JSON.stringify(pad)}`;
        it(name, async () => {
          await assertSameOnBothBackends(name, (rng) => {
            const x = random(rng, xShape) as tf.Tensor4D;
            const filter = random(rng, filterShape) as tf.Tensor4D;
            const outShape = tf.conv2d(x, filter, strides, pad).shape;
            const weights = random(rng, outShape);
            const loss = (input: tf.Tensor) =>
              tf.sum(
                tf.mul(tf.conv2d(input as tf.Tensor4D, filter, strides, pad), weights),
              );
            return tf.grad(loss)(x);
          });
        });
      }

      it("dy with no channels", async () => {
        await assertSameOnBothBackends(
          "no output channels",
          () =>
            tf
              .engine()
              .runKernel(
                "Conv2DBackpropInput",
                { dy: tf.zeros([1, 5, 5, 0]), filter: tf.zeros([3, 3, 2, 0]) },
                {
                  strides: [1, 1],
                  pad: "same",
                  dataFormat: "NHWC",
                  inputShape: [1, 5, 5, 2],
                } as unknown as tf.NamedAttrMap,
              ) as tf.Tensor,
        );
      });

      it("conv2dTranspose with stride 2", async () => {
        await assertSameOnBothBackends("conv2dTranspose", (rng) =>
          tf.conv2dTranspose(
            random(rng, [2, 4, 5, 3]) as tf.Tensor4D,
            random(rng, [3, 3, 2, 3]) as tf.Tensor4D,
            [2, 8, 10, 2],
            2,
            "same",
          ),
        );
      });
    });

    describe("direct calls on wasm", () => {
      onBackend("wasm");

      const calls: {
        kernelName: string;
        inputs: () => tf.NamedTensorMap;
        attrs: object;
      }[] = [
        {
          kernelName: "BatchMatMul",
          inputs: () => ({ a: tf.ones([4, 3]), b: tf.ones([5, 4]) }),
          attrs: { transposeA: true, transposeB: true },
        },
        {
          kernelName: "GatherV2",
          inputs: () => ({ x: tf.ones([4, 3]), indices: tf.tensor1d([1, 1], "int32") }),
          attrs: { axis: 0, batchDims: 0 },
        },
        {
          kernelName: "BatchMatMul",
          inputs: () => ({ a: tf.zeros([0, 3, 5]), b: tf.zeros([0, 7, 5]) }),
          attrs: { transposeA: false, transposeB: true },
        },
        {
          kernelName: "Sum",
          inputs: () => ({ x: tf.ones([4, 3, 2]) }),
          attrs: { axis: [0, 1], keepDims: false },
        },
        {
          kernelName: "Conv2DBackpropInput",
          inputs: () => ({ dy: tf.ones([2, 3, 3, 4]), filter: tf.ones([3, 3, 2, 4]) }),
          attrs: {
            strides: 2,
            pad: "same",
            dataFormat: "NHWC",
            inputShape: [2, 6, 6, 2],
          },
        },
      ];
      for (const { kernelName, inputs, attrs } of calls) {
        const shapes = tf.tidy(() =>
          Object.values(inputs())
            .map((t) => `[${t.shape.join(",")}]`)
            .join(" "),
        );
        it(`${kernelName} ${shapes} leaves no intermediate data`, () => {
          const backend = tf.backend();
          const tensors = inputs();
          const before = backend.numDataIds();
          const out = tf
            .engine()
            .runKernel(kernelName, tensors, attrs as tf.NamedAttrMap);
          assert.equal(backend.numDataIds(), before + 1, "only the output is new");
          tf.dispose([...Object.values(tensors), out as tf.Tensor]);
        });

        it(`${kernelName} ${shapes} wraps tfjs's kernel`, () => {
          const original = tfjsKernelReplacedByKit(kernelName, "wasm");
          assert.ok(original !== undefined, "tfjs's kernel was kept");
          assert.notEqual(
            tf.getKernel(kernelName, "wasm").kernelFunc,
            original.kernelFunc,
          );
        });
      }
    });
  });

  describe("registerKitKernels", () => {
    const kitFunctions = new Set<unknown>(
      KIT_KERNELS.map((kernel) =>
        "kernelFunc" in kernel ? kernel.kernelFunc : undefined,
      ),
    );

    for (const backendName of BACKENDS_UNDER_TEST) {
      describe(`on ${backendName}`, () => {
        onBackend(backendName);

        it("changes nothing when called twice", () => {
          const first = registerKitKernels(backendName);
          const registered = first.map(
            (name) => tf.getKernel(name, backendName).kernelFunc,
          );
          const warnings: unknown[] = [];
          const warn = console.warn;
          console.warn = (...args: unknown[]) => warnings.push(args);
          let second: string[];
          try {
            second = registerKitKernels(backendName);
          } finally {
            console.warn = warn;
          }
          assert.deepEqual(second, first);
          second.forEach((name, i) => {
            assert.equal(tf.getKernel(name, backendName).kernelFunc, registered[i], name);
          });
          assert.deepEqual(warnings, [], "no 'already registered' warnings");
        });

        it("keeps the tfjs kernels it does not list", () => {
          for (const name of ["Conv2D", "MaxPool", "FusedConv2D"]) {
            const kernel = tf.getKernel(name, backendName);
            assert.ok(kernel !== undefined, `${name} is registered`);
            assert.ok(!kitFunctions.has(kernel.kernelFunc), `${name} is tfjs's own`);
          }
        });
      });
    }

    it("serves the expected kernels on each backend", async () => {
      const cpu = await withBackend("cpu", () => registerKitKernels("cpu"));
      assert.deepEqual(cpu, ["ResizeNearestNeighborGrad"]);
      const wasm = await withBackend("wasm", () => registerKitKernels("wasm"));
      assert.deepEqual(wasm, [
        "Conv2DBackpropFilter",
        "MaxPoolGrad",
        "ResizeNearestNeighborGrad",
        "BatchMatMul",
        "_FusedMatMul",
        "GatherV2",
        "Sum",
        "Conv2DBackpropInput",
      ]);
      assert.deepEqual(registerKitKernels("tensorflow"), []);
    });

    it("keeps an existing kernel that passes its probe", async () => {
      // A correct kernel with an identity of its own plays the part of a fixed tfjs release
      const correct = asKernelFunc((args) => maxPoolGrad(args));
      const config = {
        kernelName: "MaxPoolGrad",
        backendName: "wasm",
        kernelFunc: correct,
      };
      await withBackend("wasm", () =>
        withKernel(config, () => {
          const served = registerKitKernels("wasm");
          assert.equal(
            served.includes("MaxPoolGrad"),
            false,
            `served: ${served.join(", ")}`,
          );
          assert.equal(tf.getKernel("MaxPoolGrad", "wasm").kernelFunc, correct);
        }),
      );
    });

    it("keeps an existing kernel that it only adds when missing", async () => {
      const standIn = asKernelFunc((args) => conv2dBackpropFilterWasm(args));
      const config = {
        kernelName: "Conv2DBackpropFilter",
        backendName: "wasm",
        kernelFunc: standIn,
      };
      await withBackend("wasm", () =>
        withKernel(config, () => {
          const served = registerKitKernels("wasm");
          assert.equal(
            served.includes("Conv2DBackpropFilter"),
            false,
            `served: ${served.join(", ")}`,
          );
          assert.equal(tf.getKernel("Conv2DBackpropFilter", "wasm").kernelFunc, standIn);
        }),
      );
    });

    it("replaces a kernel that fails its probe", async () => {
      // Returns zeros, as a kernel that loses the gradient would
      const wrong = asKernelFunc(({ inputs, backend }) => {
        const { shape } = inputs.images as tf.TensorInfo;
        const dataId = backend.write(new Float32Array(sizeOf(shape)), shape, "float32");
        return { dataId, shape, dtype: "float32" };
      });
      const config = {
        kernelName: "ResizeNearestNeighborGrad",
        backendName: "cpu",
        kernelFunc: wrong,
      };
      await withBackend("cpu", () =>
        withKernel(config, () => {
          assert.deepEqual(registerKitKernels("cpu"), ["ResizeNearestNeighborGrad"]);
          const served = tf.getKernel("ResizeNearestNeighborGrad", "cpu").kernelFunc;
          assert.equal(served, resizeNearestNeighborGrad);
        }),
      );
    });
  });
});
