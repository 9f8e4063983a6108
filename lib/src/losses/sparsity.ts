import * as tf from "@tensorflow/tfjs";
import { checkOpenInterval, invalid } from "../core/validate";
import { checkRows } from "../linalg/dense";

/**
 * Lower bound of the clamp on rhoHat, 2^-23 (float32's machine epsilon). The upper
 * bound is 1 - 2^-23. Both bounds are exact in float32, so the tensor and the number[]
 * versions clamp to the same values.
 */
const RHO_HAT_EPSILON = 2 ** -23;

function klTerm(rho: number, rhoHat: number): number {
  const clamped = Math.min(1 - RHO_HAT_EPSILON, Math.max(RHO_HAT_EPSILON, rhoHat));
  return rho * Math.log(rho / clamped) + (1 - rho) * Math.log((1 - rho) / (1 - clamped));
}

/**
 * Computes the sparsity penalty of a sparse autoencoder: the sum over hidden units j of
 * the KL divergence between Bernoulli distributions with means rho and rhoHat_j,
 *
 *   KL(rho || rhoHat_j) = rho log(rho / rhoHat_j)
 *                         + (1 - rho) log((1 - rho) / (1 - rhoHat_j)).
 *
 * The training loss adds beta times this value. It is zero when every unit's mean
 * activation equals rho. It differs from tfjs-layers' 'kullbackLeiblerDivergence' loss
 * (a name for model.compile in TensorFlow.js 4.22), which is the KL divergence between
 * categorical distributions, summed over the last axis.
 *
 * rhoHat is clamped to [2^-23, 1 - 2^-23] first. A unit that never fires (rhoHat = 0)
 * or always saturates (rhoHat = 1) would otherwise make the penalty Infinity and its
 * gradient infinite or NaN, which would ruin the training step. After the clamp each
 * term is at most about 16 (14.9 for rho = 0.05 and rhoHat = 1).
 *
 * NOTE: the gradient with respect to rhoHat is 0 where the clamp is active, so a unit
 * whose mean activation is below 2^-23 gets no push back towards rho from this term.
 *
 * @param rho target mean activation, in the open interval (0, 1), e.g. 0.05.
 * @param rhoHat mean activation of each hidden unit over a batch, e.g. tf.mean(h, 0)
 *   for sigmoid activations h [batch, units]. A tf.Tensor1D gives a differentiable
 *   tf.Scalar, computed in tf.tidy, and its values are not checked (that would need a
 *   download). A number[] gives a number and must hold values in [0, 1].
 */
export function klSparsityPenalty(rho: number, rhoHat: tf.Tensor1D): tf.Scalar;
export function klSparsityPenalty(rho: number, rhoHat: number[]): number;
export function klSparsityPenalty(
  rho: number,
  rhoHat: tf.Tensor1D | number[],
): tf.Scalar | number {
  const fn = "klSparsityPenalty";
  checkOpenInterval(fn, "rho", rho, 0, 1);
  if (rhoHat instanceof tf.Tensor) {
    if (rhoHat.rank !== 1) invalid(fn, "rhoHat", "be a 1-D tensor [units]", rhoHat);
    return tf.tidy(() => {
      const clamped = tf.clipByValue(
        tf.cast(rhoHat, "float32"),
        RHO_HAT_EPSILON,
        1 - RHO_HAT_EPSILON,
      );
      const active = tf.mul(rho, tf.log(tf.div(rho, clamped)));
      const inactive = tf.mul(1 - rho, tf.log(tf.div(1 - rho, tf.sub(1, clamped))));
      return tf.sum(tf.add(active, inactive)) as tf.Scalar;
    });
  }
  if (!Array.isArray(rhoHat)) {
    invalid(fn, "rhoHat", "be a tf.Tensor1D or a number[]", rhoHat);
  }
  let sum = 0;
  rhoHat.forEach((value: unknown, j) => {
    if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
      invalid(fn, `rhoHat[${j}]`, "be a number in [0, 1] (a mean activation)", value);
    }
    sum += klTerm(rho, value);
  });
  return sum;
}

/**
 * Computes the L1 activity penalty of hidden activations h [batch, units, ...]:
 * the sum of |h| over each example's units, averaged over the batch.
 *
 * Averaging over the batch keeps the value independent of the batch size, while summing
 * over units makes it grow with the layer's width. The training loss adds a weight
 * times this value.
 *
 * @param h a tf.Tensor of rank 2 or more gives a differentiable tf.Scalar, computed in
 *   tf.tidy. A number[][] gives a number.
 */
export function l1ActivityPenalty(h: tf.Tensor): tf.Scalar;
export function l1ActivityPenalty(h: number[][]): number;
export function l1ActivityPenalty(h: tf.Tensor | number[][]): tf.Scalar | number {
  const fn = "l1ActivityPenalty";
  if (h instanceof tf.Tensor) {
    if (h.rank < 2 || h.shape[0] === 0) {
      invalid(fn, "h", "be a tensor [batch, units, ...] with at least one example", h);
    }
    return tf.tidy(() => {
      const unitAxes = Array.from({ length: h.rank - 1 }, (_, i) => i + 1);
      return tf.mean(tf.sum(tf.abs(h), unitAxes)) as tf.Scalar;
    });
  }
  checkRows(fn, "h", h);
  if (h.length === 0) invalid(fn, "h", "have at least one row (example)", h);
  let sum = 0;
  for (const row of h) {
    for (const value of row) sum += Math.abs(value);
  }
  return sum / h.length;
}
