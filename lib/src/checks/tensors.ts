import * as tf from "@tensorflow/tfjs";
import {
  callStudent,
  describeThrown,
  StudentError,
  type CheckCase,
  type Failure,
} from "./cases";
import { formatList, formatNumber } from "./format";

/**
 * Step h of the central differences (f(x + h) - f(x - h)) / 2h. For float32 inputs of
 * order 0.1 to 1, rounding of f adds an error of about 1e-4 to each derivative, and the
 * truncation error h^2 f''' / 6 is of the same order or smaller.
 */
export const GRADIENT_STEP = 1e-3;

/**
 * Largest accepted relative difference |g - n| / |g + n| between the gradient g from
 * tf.grad and the central differences n (Euclidean norms over all entries). The kit's
 * KL and contractive penalties measured 6e-6 to 1.2e-4 on the cpu and wasm backends
 * (TensorFlow.js 4.22) at the checkers' inputs. A gradient off by a factor of 2 gives 1/3.
 */
export const GRADIENT_TOLERANCE = 1e-3;

/** The gradient rule in words, for a checker's summary. */
export const GRADIENT_RULE = `gradients within |g - n| / |g + n| < ${GRADIENT_TOLERANCE}`;

/**
 * Counts the tensors that a call leaves allocated besides the one it returns.
 * A returned tensor that is one of `inputs` is not new, so it is not subtracted.
 */
export function countLeakedTensors(
  call: () => unknown,
  inputs: readonly tf.Tensor[],
): number {
  const before = tf.memory().numTensors;
  const result = call();
  const returnedNew = result instanceof tf.Tensor && !inputs.includes(result);
  return tf.memory().numTensors - before - (returnedNew ? 1 : 0);
}

/**
 * Builds the case that calls a tensor function once and fails when it leaves
 * intermediate tensors allocated, as a function without tf.tidy does.
 */
export function leakCase(
  input: string,
  makeInputs: () => tf.Tensor[],
  call: (inputs: tf.Tensor[]) => unknown,
): CheckCase {
  return {
    name: "leaves no intermediate tensors",
    input,
    run: () => {
      const inputs = makeInputs();
      const leaked = countLeakedTensors(() => call(inputs), inputs);
      if (leaked <= 0) return undefined;
      return {
        expected: "no tensors left allocated by the call, except the result",
        received: `${leaked} intermediate tensor(s) left allocated`,
        hint: "wrap the computation in tf.tidy(() => ...), which disposes them",
      };
    },
  };
}

/**
 * Estimates the gradient of a scalar function of `x` by central differences, one entry
 * at a time. The divisor is the difference of the two float32 points, not 2h, because
 * x + h and x - h are rounded to float32.
 */
export function centralDifferences(
  evaluate: (x: tf.Tensor) => number,
  x: tf.Tensor,
  step = GRADIENT_STEP,
): Float64Array {
  const values = Float32Array.from(x.dataSync());
  const gradient = new Float64Array(values.length);
  const evaluateAt = (point: Float32Array): number => {
    let value = NaN;
    tf.tidy(() => {
      value = evaluate(tf.tensor(point, x.shape, "float32"));
    });
    return value;
  };
  for (let i = 0; i < values.length; i++) {
    const plus = Float32Array.from(values);
    const minus = Float32Array.from(values);
    plus[i] = values[i] + step;
    minus[i] = values[i] - step;
    gradient[i] = (evaluateAt(plus) - evaluateAt(minus)) / (plus[i] - minus[i]);
  }
  return gradient;
}

/** Returns |a - b| / |a + b| in the Euclidean norm, or 0 when both are zero. */
export function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let difference = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    difference += (a[i] - b[i]) ** 2;
    sum += (a[i] + b[i]) ** 2;
  }
  if (difference === 0) return 0;
  return Math.sqrt(difference) / Math.sqrt(sum);
}

/** The hint for a function that tf.grad cannot differentiate. */
const NOT_DIFFERENTIABLE =
  "build the result from TensorFlow.js operations on the tensor arguments only: " +
  "values read with dataSync() or arraySync() and turned back into tensors are " +
  "constants to tf.grad";

/**
 * Disposes the tensors that the gradient tape kept for the backward pass, which
 * TensorFlow.js 4.22 leaves allocated when tf.grads throws (for example "Cannot compute
 * gradient of y=f(x)"), and drops the tape, as a successful tf.grads does.
 */
function releaseTape(): void {
  // NOTE: engine().state is internal to TensorFlow.js (4.22); outside a nested gradient
  // (gradientDepth 0) no other computation uses the tape.
  const state = tf.engine().state;
  if (state.gradientDepth !== 0 || !state.activeTape) return;
  for (const node of state.activeTape) {
    for (const tensor of node.saved ?? []) tensor.dispose();
  }
  state.activeTape = null as unknown as typeof state.activeTape;
}

/**
 * Computes the gradient of `f` with tf.grads, or returns a Failure when tf.grad cannot
 * differentiate it. Errors the checked function throws pass through as StudentError.
 */
export function analyticGradient(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  xs: tf.Tensor[],
): Float64Array | Failure {
  let grads: tf.Tensor[];
  try {
    grads = tf.grads((...args: tf.Tensor[]) => callStudent(f, ...args))(xs);
  } catch (error) {
    releaseTape();
    if (error instanceof StudentError) throw error;
    return {
      expected: "a gradient from tf.grad",
      received: `tf.grad failed: ${describeThrown(error)}`,
      hint: NOT_DIFFERENTIABLE,
    };
  }
  const flat = grads.flatMap((g) => Array.from(g.dataSync()));
  return Float64Array.from(flat);
}

/**
 * Compares the gradient from tf.grad with central differences, and returns the failure
 * (or undefined) with the entry that differs most, named by `label`.
 */
export function compareGradients(
  analytic: Float64Array,
  numeric: Float64Array,
  label: (index: number) => string,
): Failure | undefined {
  const difference = relativeDifference(analytic, numeric);
  if (difference < GRADIENT_TOLERANCE) return undefined;
  let worst = 0;
  for (let i = 1; i < numeric.length; i++) {
    const gap = Math.abs(analytic[i] - numeric[i]);
    if (gap > Math.abs(analytic[worst] - numeric[worst])) worst = i;
  }
  const zero = analytic.every((g) => g === 0);
  return {
    expected: `central differences ${formatList(numeric)}`,
    received: `tf.grad ${formatList(analytic)}`,
    detail:
      `relative difference |g - n| / |g + n| = ${formatNumber(difference)}, ` +
      `must be below ${GRADIENT_TOLERANCE}; the largest gap is at ${label(worst)}: ` +
      `tf.grad ${formatNumber(analytic[worst])}, ` +
      `central differences ${formatNumber(numeric[worst])}`,
    hint: zero ? NOT_DIFFERENTIABLE : undefined,
  };
}
