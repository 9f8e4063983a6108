import * as tf from "@tensorflow/tfjs";
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { AekitError } from "../core/errors";
import { checkInteger, invalid } from "../core/validate";
import { FlatMatrix, MatrixLike, matrixLike, readMatrix, toRows } from "./dense";

/** A fitted PCA: the mean, the principal axes and the variance along each. */
export interface PcaResult {
  /** Mean of each feature over the samples, [features]. */
  mean: number[];
  /**
   * The k principal axes as rows of unit length, [k, features], by decreasing variance.
   * Each row's entry of largest absolute value is positive (the first one on a tie).
   */
  components: number[][];
  /** Variance of the data along each component, with the n - 1 denominator, [k]. */
  explainedVariance: number[];
  /** Each component's share of the total variance (the trace of the covariance), [k]. */
  explainedVarianceRatio: number[];
  /**
   * Projects samples [n, features] onto the components: (X - mean) componentsᵀ, [n, k].
   * Returns the same kind of matrix it is given. Tensors are computed in float32 with
   * TensorFlow.js, the other kinds in float64.
   */
  transform(X: tf.Tensor2D): tf.Tensor2D;
  transform(X: number[][]): number[][];
  transform(X: FlatMatrix): FlatMatrix;
  /**
   * Maps codes [n, k] back to the input space: Z components + mean, [n, features].
   * Returns the same kind of matrix it is given, like transform.
   */
  inverseTransform(Z: tf.Tensor2D): tf.Tensor2D;
  inverseTransform(Z: number[][]): number[][];
  inverseTransform(Z: FlatMatrix): FlatMatrix;
}

/**
 * Computes the sample covariance [features, features] of row-major data, in float64.
 * The centered data are stored one feature per contiguous column, so each entry is a
 * dot product over adjacent memory.
 */
function covariance(
  data: Float64Array,
  rows: number,
  columns: number,
  mean: Float64Array,
) {
  const centered = new Float64Array(rows * columns);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++) {
      centered[j * rows + i] = data[i * columns + j] - mean[j];
    }
  }
  const result = new Float64Array(columns * columns);
  for (let a = 0; a < columns; a++) {
    const offsetA = a * rows;
    for (let b = a; b < columns; b++) {
      const offsetB = b * rows;
      let sum = 0;
      for (let i = 0; i < rows; i++) sum += centered[offsetA + i] * centered[offsetB + i];
      result[a * columns + b] = sum / (rows - 1);
      result[b * columns + a] = sum / (rows - 1);
    }
  }
  return result;
}

/** Flips `axis` in place so its entry of largest absolute value is positive. */
function fixSign(axis: Float64Array): void {
  let largest = 0;
  for (let j = 1; j < axis.length; j++) {
    if (Math.abs(axis[j]) > Math.abs(axis[largest])) largest = j;
  }
  if (axis[largest] < 0) axis.forEach((value, j) => (axis[j] = -value));
}

/**
 * Fits a principal component analysis with k components to the samples X [n, features],
 * in float64.
 *
 * It computes the sample covariance and its eigendecomposition (ml-matrix's symmetric
 * EVD), which costs O(n·features² + features³). For 8000 MNIST digits (784 features)
 * on a shared 2-vCPU Xeon VM with Node 20, that took 7 s (4 s covariance, 3 s EVD) in
 * the quietest run and up to 28 s while other processes loaded the VM. ml-matrix's SVD
 * of the centered data took 48 s in the quiet run.
 *
 * Forming the covariance squares the condition number: an axis's error is about
 * eps * (largest variance) / (gap to the nearest other variance). That is small for the
 * leading, well separated axes that PCA keeps, but larger than an SVD's for the
 * trailing ones.
 *
 * Eigenvectors have no sign of their own. Each component is flipped so its entry of
 * largest absolute value is positive, the rule of scikit-learn 1.2's
 * `svd_flip(u, v, u_based_decision=False)`. With fewer samples than features, the
 * components past rank n - 1 have zero variance and an arbitrary direction.
 *
 * @param X samples as rows: number[][], a FlatMatrix or a tf.Tensor2D.
 * @param k number of components, from 1 to min(samples, features).
 */
export function pca(X: MatrixLike, k: number): PcaResult {
  const fn = "pca";
  const { data, rows, columns } = readMatrix(fn, "X", X);
  if (rows < 2) invalid(fn, "X", "have at least 2 rows (samples)", X);
  if (columns < 1) invalid(fn, "X", "have at least 1 column (feature)", X);
  checkInteger(fn, "k", k, 1);
  const maxComponents = Math.min(rows, columns);
  if (k > maxComponents) {
    const bound = `min(samples, features) = min(${rows}, ${columns}) = ${maxComponents}`;
    invalid(fn, "k", `be at most ${bound}`, k);
  }

  const mean = new Float64Array(columns);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++) mean[j] += data[i * columns + j];
  }
  mean.forEach((sum, j) => (mean[j] = sum / rows));
  const cov = covariance(data, rows, columns, mean);
  let totalVariance = 0;
  for (let j = 0; j < columns; j++) totalVariance += cov[j * columns + j];
  if (totalVariance === 0) {
    const message = `${fn}: X must vary in at least one feature, got ${rows} equal rows`;
    throw new AekitError(message);
  }

  const evd = new EigenvalueDecomposition(Matrix.from1DArray(columns, columns, cov), {
    assumeSymmetric: true,
  });
  const eigenvalues = evd.realEigenvalues;
  const vectors = evd.eigenvectorMatrix;
  const order = eigenvalues
    .map((_, i) => i)
    .sort((a, b) => eigenvalues[b] - eigenvalues[a]);
  const components = new Float64Array(k * columns);
  const explainedVariance: number[] = [];
  for (let c = 0; c < k; c++) {
    const axis = Float64Array.from(vectors.getColumn(order[c]));
    fixSign(axis);
    components.set(axis, c * columns);
    // rounding can leave the eigenvalue of a zero-variance direction slightly negative
    explainedVariance.push(Math.max(0, eigenvalues[order[c]]));
  }

  return makeResult(mean, components, k, explainedVariance, totalVariance);
}

function makeResult(
  mean: Float64Array,
  components: Float64Array,
  k: number,
  explainedVariance: number[],
  totalVariance: number,
): PcaResult {
  const features = mean.length;
  // TensorFlow.js takes no Float64Array, and tensors are float32 anyway
  const components32 = Float32Array.from(components);
  const mean32 = Float32Array.from(mean);

  function project(X: MatrixLike): MatrixLike {
    if (X instanceof tf.Tensor) {
      if (X.rank !== 2 || X.shape[1] !== features) {
        invalid("PcaResult.transform", "X", `be a 2-D tensor [n, ${features}]`, X);
      }
      return tf.tidy(() => {
        const axes = tf.tensor2d(components32, [k, features]);
        const centered = tf.sub(tf.cast(X, "float32"), tf.tensor1d(mean32));
        return tf.matMul(centered, axes, false, true) as tf.Tensor2D;
      });
    }
    const { data, rows, columns } = readMatrix("PcaResult.transform", "X", X);
    if (columns !== features) {
      invalid("PcaResult.transform", "X", `have ${features} columns`, X);
    }
    const codes = new Float64Array(rows * k);
    for (let i = 0; i < rows; i++) {
      for (let c = 0; c < k; c++) {
        let sum = 0;
        for (let j = 0; j < features; j++) {
          sum += (data[i * features + j] - mean[j]) * components[c * features + j];
        }
        codes[i * k + c] = sum;
      }
    }
    return matrixLike(X, codes, rows, k);
  }

  function reconstruct(Z: MatrixLike): MatrixLike {
    if (Z instanceof tf.Tensor) {
      if (Z.rank !== 2 || Z.shape[1] !== k) {
        invalid("PcaResult.inverseTransform", "Z", `be a 2-D tensor [n, ${k}]`, Z);
      }
      return tf.tidy(() => {
        const axes = tf.tensor2d(components32, [k, features]);
        return tf.add(
          tf.matMul(tf.cast(Z, "float32"), axes),
          tf.tensor1d(mean32),
        ) as tf.Tensor2D;
      });
    }
    const { data, rows, columns } = readMatrix("PcaResult.inverseTransform", "Z", Z);
    if (columns !== k) invalid("PcaResult.inverseTransform", "Z", `have ${k} columns`, Z);
    const points = new Float64Array(rows * features);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < features; j++) {
        let sum = mean[j];
        for (let c = 0; c < k; c++) sum += data[i * k + c] * components[c * features + j];
        points[i * features + j] = sum;
      }
    }
    return matrixLike(Z, points, rows, features);
  }

  return {
    mean: Array.from(mean),
    components: toRows(components, k, features),
    explainedVariance,
    explainedVarianceRatio: explainedVariance.map((variance) => variance / totalVariance),
    transform: project as PcaResult["transform"],
    inverseTransform: reconstruct as PcaResult["inverseTransform"],
  };
}
