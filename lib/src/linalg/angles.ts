import { Matrix, SingularValueDecomposition } from "ml-matrix";
import { invalid } from "../core/validate";
import { Float64Matrix, MatrixLike, readMatrix } from "./dense";

/** Returns the singular values of `matrix`, largest first. */
function singularValues(matrix: Matrix): number[] {
  const svd = new SingularValueDecomposition(matrix, {
    computeLeftSingularVectors: false,
    computeRightSingularVectors: false,
    autoTranspose: true,
  });
  return svd.diagonal.slice(0, Math.min(matrix.rows, matrix.columns));
}

/**
 * Returns an orthonormal basis of the column space of `matrix` as the columns of a
 * [rows, rank] matrix. The rank counts the singular values above
 * eps * max(rows, columns) * (largest singular value), the cut of scipy.linalg.orth.
 */
function orthonormalBasis({ data, rows, columns }: Float64Matrix): Matrix {
  const svd = new SingularValueDecomposition(Matrix.from1DArray(rows, columns, data), {
    autoTranspose: true,
  });
  const values = svd.diagonal.slice(0, Math.min(rows, columns));
  const cut = Number.EPSILON * Math.max(rows, columns) * Math.max(0, ...values);
  const rank = values.filter((value) => value > cut).length;
  if (rank === 0) return new Matrix(rows, 0);
  return svd.leftSingularVectors.subMatrix(0, rows - 1, 0, rank - 1);
}

/**
 * Computes the principal angles, in radians and largest first, between the column
 * spaces of A [n, p] and B [n, q]. There are min(rank A, rank B) of them, in [0, π/2].
 *
 * It follows scipy.linalg.subspace_angles and its source, Knyazev and Argentati,
 * "Principal angles between subspaces in an A-based scalar product: algorithms and
 * perturbation estimates", SIAM J. Sci. Comput. 23 (2002) 2008-2040.
 * The cosines are the singular values of QAᵀQB for orthonormal bases QA and QB. An
 * angle near 0 has a cosine near 1, so arccos would lose about half of its digits.
 * Angles up to π/4 are therefore taken from the sines instead, the singular values of
 * QB - QA QAᵀQB (of QA - QB QBᵀQA when A has the smaller rank).
 *
 * NOTE: scipy 1.10 pairs each angle with the wrong formula when some angles are below
 * π/4 and others above, so for planted angles 1.2 and 1e-9 it returns 1.2 and 0. This
 * function returns 1.2 and 1e-9.
 *
 * Computed in float64 with ml-matrix's SVD. A and B may be number[][], FlatMatrix or
 * tf.Tensor2D, and must have the same number of rows.
 */
export function principalAngles(A: MatrixLike, B: MatrixLike): number[] {
  const fn = "principalAngles";
  const a = readMatrix(fn, "A", A);
  const b = readMatrix(fn, "B", B);
  if (b.rows !== a.rows) invalid(fn, "B", `have ${a.rows} rows like A`, B);
  if (a.rows === 0 || a.columns === 0 || b.columns === 0) return [];

  const basisA = orthonormalBasis(a);
  const basisB = orthonormalBasis(b);
  const count = Math.min(basisA.columns, basisB.columns);
  if (count === 0) return [];
  const cross = basisA.transpose().mmul(basisB);
  // the cosines, largest first, so the smallest angles come first
  const cosines = singularValues(cross);
  const residual =
    basisA.columns >= basisB.columns
      ? Matrix.sub(basisB, basisA.mmul(cross))
      : Matrix.sub(basisA, basisB.mmul(cross.transpose()));
  // the sines, largest first, so the largest angles come first
  const sines = singularValues(residual);

  const angles: number[] = [];
  for (let i = 0; i < count; i++) {
    const cosine = Math.min(1, Math.max(-1, cosines[count - 1 - i]));
    const sine = Math.min(1, sines[i]);
    angles.push(cosine * cosine >= 0.5 ? Math.asin(sine) : Math.acos(cosine));
  }
  return angles;
}
