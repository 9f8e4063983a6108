import * as tf from "@tensorflow/tfjs";
import { invalid } from "../core/validate";

const describeShape = (shape: readonly number[]) => `[${shape.join(", ")}]`;

/**
 * Computes the penalty of a contractive autoencoder: the squared Frobenius norm of the
 * Jacobian of the encoder h = sigmoid(x W + b) with respect to its input x, averaged
 * over the rows of x. The training loss adds a weight (lambda) times this value.
 *
 * For a sigmoid layer, dh_j/dx_i = h_j (1 - h_j) W_ij, so the norm of one row's Jacobian
 * has the closed form sum_j (h_j (1 - h_j))^2 sum_i W_ij^2, without building the
 * [hidden, inputs] Jacobian.
 *
 * @param W kernel [inputs, hidden], the layout of a tf.layers.dense kernel.
 * @param b bias [hidden].
 * @param x inputs [batch, inputs].
 * @returns a differentiable tf.Scalar (with respect to W, b and x), computed in tf.tidy.
 */
export function contractivePenalty(
  W: tf.Tensor2D,
  b: tf.Tensor1D,
  x: tf.Tensor2D,
): tf.Scalar {
  const fn = "contractivePenalty";
  if (!(W instanceof tf.Tensor) || W.rank !== 2) {
    invalid(fn, "W", "be a 2-D tensor [inputs, hidden]", W);
  }
  const [inputs, hidden] = W.shape;
  if (!(b instanceof tf.Tensor) || b.rank !== 1 || b.shape[0] !== hidden) {
    invalid(
      fn,
      "b",
      `be a 1-D tensor [${hidden}] (hidden units of W ${describeShape(W.shape)})`,
      b,
    );
  }
  if (
    !(x instanceof tf.Tensor) ||
    x.rank !== 2 ||
    x.shape[1] !== inputs ||
    x.shape[0] === 0
  ) {
    const kernel = describeShape(W.shape);
    const rule = `be a 2-D tensor [batch, ${inputs}] (inputs of W ${kernel}), batch >= 1`;
    invalid(fn, "x", rule, x);
  }

  return tf.tidy(() => {
    const h = tf.sigmoid(tf.add(tf.matMul(x, W), b));
    const slope = tf.mul(h, tf.sub(1, h));
    const kernelColumnNorms = tf.sum(tf.square(W), 0);
    const rowNorms = tf.sum(tf.mul(tf.square(slope), kernelColumnNorms), 1);
    return tf.mean(rowNorms) as tf.Scalar;
  });
}
