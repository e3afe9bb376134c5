"""Multinomial logistic (softmax) regression in numpy: one class per knowledge entry.

Fitted by full-batch gradient descent with Nesterov momentum on the mean cross-entropy plus
`l2 / 2 * |W|^2`, with a step from the largest eigenvalue of the features' second moment (so it
needs no tuning). A warm start from the previous model (same classes keep their weights, a
new class starts at its rows' mean direction) converges in a fraction of the iterations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

L2 = 1e-5
STEP = 32.0
ITERATIONS = 100
WARM_ITERATIONS = 30


@dataclass(frozen=True)
class SoftmaxModel:
    """Weights (features x classes), biases and the class names, in column order."""

    classes: tuple[str, ...]
    weights: np.ndarray
    biases: np.ndarray

    def logits(self, features: np.ndarray) -> np.ndarray:
        """Class logits of one feature vector (shape: classes)."""
        logits: np.ndarray = np.einsum("ij,i->j", self.weights, features) + self.biases
        return logits


def fit_softmax(
    features: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[str],
    *,
    start: SoftmaxModel | None = None,
    l2: float = L2,
    iterations: int | None = None,
) -> SoftmaxModel:
    """Fit on `features` (rows x dims) with `labels` (class index per row); warm-start from `start`."""
    rows, dims = features.shape
    count = len(classes)
    weights, biases = _initial(features, labels, classes, start)
    if iterations is None:
        iterations = WARM_ITERATIONS if start is not None else ITERATIONS
    x = features.astype(np.float32, copy=False)
    onehot = np.zeros((rows, count), dtype=np.float32)
    onehot[np.arange(rows), labels] = 1.0
    # The softmax's curvature is at most half the features' (and the bias's) second moment; in
    # practice far less, so the step is a multiple of that bound, with a restart of the
    # momentum whenever it points uphill (adaptive restart, O'Donoghue & Candes 2015).
    step = STEP / (0.5 * (_largest_eigenvalue(x) + 1.0) + l2)
    velocity_w = np.zeros_like(weights)
    velocity_b = np.zeros_like(biases)
    momentum = 0.0
    for _ in range(iterations):
        look_w = weights + momentum * velocity_w
        look_b = biases + momentum * velocity_b
        logits = x @ look_w + look_b
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        error = (probabilities - onehot) / rows
        gradient_w = x.T @ error + l2 * look_w
        gradient_b = error.sum(axis=0)
        new_w = look_w - step * gradient_w
        new_b = look_b - step * gradient_b
        uphill = float((gradient_w * (new_w - weights)).sum() + (gradient_b * (new_b - biases)).sum()) > 0
        velocity_w, velocity_b = new_w - weights, new_b - biases
        weights, biases = new_w, new_b
        momentum = 0.0 if uphill else min(0.95, momentum + 0.1)
    return SoftmaxModel(tuple(classes), np.ascontiguousarray(weights, dtype=np.float32), biases.astype(np.float32))


def extend(start: SoftmaxModel, features: np.ndarray, labels: np.ndarray, classes: Sequence[str]) -> SoftmaxModel:
    """`start` re-ordered to `classes`: known classes keep their weights, new ones start at their rows' mean direction."""
    weights, biases = _initial(features, labels, classes, start)
    return SoftmaxModel(tuple(classes), weights, biases)


def _initial(features: np.ndarray, labels: np.ndarray, classes: Sequence[str], start: SoftmaxModel | None) -> tuple[np.ndarray, np.ndarray]:
    dims, count = features.shape[1], len(classes)
    weights = np.zeros((dims, count), dtype=np.float32)
    biases = np.zeros(count, dtype=np.float32)
    if start is None:
        return weights, biases
    old = {name: column for column, name in enumerate(start.classes)}
    scale = float(np.linalg.norm(start.weights, axis=0).mean()) if start.classes else 0.0
    mean_bias = float(start.biases.mean()) if start.classes else 0.0
    for column, name in enumerate(classes):
        if name in old:
            weights[:, column] = start.weights[:, old[name]]
            biases[column] = start.biases[old[name]]
        else:
            direction = features[labels == column].mean(axis=0)
            weights[:, column] = scale * direction / max(float(np.linalg.norm(direction)), 1e-12)
            biases[column] = mean_bias
    return weights, biases


def _largest_eigenvalue(x: np.ndarray, steps: int = 20) -> float:
    """Largest eigenvalue of x^T x / rows, by power iteration."""
    vector = np.ones(x.shape[1], dtype=np.float32) / np.sqrt(x.shape[1])
    value = 1.0
    for _ in range(steps):
        product = x.T @ (x @ vector) / len(x)
        value = float(np.linalg.norm(product))
        vector = product / max(value, 1e-12)
    return value
