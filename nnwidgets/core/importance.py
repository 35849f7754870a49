"""Permutation feature importance (global) and sensitivity / ICE curves (local)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

METRICS = {
    "classification": ("accuracy", "log loss"),
    "regression": ("r2", "mse"),
}
GRID_POINTS = 25
BACKGROUND_ROWS = 30


def score(metric: str, predictions: np.ndarray, reference: np.ndarray) -> float:
    """Higher is better for every metric (log loss and MSE are negated)."""
    if metric == "accuracy":
        return float(np.mean(predictions.argmax(axis=1) == reference))
    if metric == "log loss":
        p = np.clip(predictions[np.arange(len(reference)), reference.astype(int)], 1e-12, 1.0)
        return float(np.mean(np.log(p)))
    if metric == "r2":
        total = np.sum((reference - reference.mean()) ** 2)
        return float(1 - np.sum((reference - predictions) ** 2) / total) if total > 0 else 0.0
    if metric == "mse":
        return float(-np.mean((reference - predictions) ** 2))
    raise ValueError(f"unknown metric {metric!r}; choose from {sum(METRICS.values(), ())}")


@dataclass(frozen=True)
class PermutationImportance:
    """``drops[j, r]``: how much the score fell when feature j was shuffled (repeat r), over ``rows`` of
    X's ``total_rows`` rows."""

    metric: str
    baseline: float
    drops: np.ndarray
    rows: int
    labels: bool
    total_rows: int = 0

    @property
    def mean(self) -> np.ndarray:
        return self.drops.mean(axis=1)

    @property
    def std(self) -> np.ndarray:
        return self.drops.std(axis=1)

    @property
    def repeats(self) -> int:
        return self.drops.shape[1]


def check_metric(metric: str, mode: str) -> str:
    if metric not in METRICS[mode]:
        raise ValueError(f"metric {metric!r} does not fit mode {mode!r}; choose from {METRICS[mode]}")
    return metric


def permutation_importance(
    X: np.ndarray,
    predict: Callable[[np.ndarray], np.ndarray],
    original: np.ndarray,
    mode: str,
    *,
    metric: str,
    repeats: int = 5,
    y: np.ndarray | None = None,
    random_state: int = 0,
    step: Callable[[int], None] | None = None,
    total_rows: int | None = None,
) -> PermutationImportance:
    """Shuffle one feature at a time and measure the drop in ``metric``.

    ``original`` is ``predict(X)`` (computed once and shared). Without labels ``y`` the model's own
    predictions are the reference, so the score measures how much the model's output depends on each
    feature. ``step(j)`` is called before feature ``j`` (for progress and cancellation).
    """
    check_metric(metric, mode)
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    if y is None:
        reference = original.argmax(axis=1) if mode == "classification" else original
    else:
        reference = np.asarray(y)
    baseline = score(metric, original, reference)
    rng = np.random.default_rng(random_state)
    n, d = X.shape
    drops = np.empty((d, repeats))
    for j in range(d):  # one forward pass per feature, over all its repeats
        if step is not None:
            step(j)
        shuffled = np.repeat(X[None], repeats, axis=0)
        for r in range(repeats):
            shuffled[r, :, j] = X[rng.permutation(n), j]
        outputs = predict(shuffled.reshape(-1, d))
        outputs = outputs.reshape(repeats, n, *outputs.shape[1:])
        drops[j] = [baseline - score(metric, outputs[r], reference) for r in range(repeats)]
    return PermutationImportance(metric, baseline, drops, n, y is not None, total_rows or n)


@dataclass(frozen=True)
class Sensitivity:
    """For each of ``features``: its ``grid`` of values, the current row's prediction along it
    (``current``) and other rows' ICE lines (``background``, rows × grid), for every output column
    (the last axis: classes, or the one regression value)."""

    features: np.ndarray
    grid: np.ndarray
    current: np.ndarray
    background: np.ndarray

    def for_output(self, column: int) -> "Sensitivity":
        return Sensitivity(self.features, self.grid, self.current[..., column], self.background[..., column])


ICE_BATCH_BYTES = 32 * 2**20


def sensitivity(
    others: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    predict: Callable[[np.ndarray], np.ndarray],
    row_values: np.ndarray,
    features: np.ndarray | None = None,
    *,
    points: int = GRID_POINTS,
) -> Sensitivity:
    """Individual conditional expectation: move one feature at a time across ``lo``…``hi`` (its range),
    the rest fixed, for the current row and the ``others`` (a few rows of X). Only ``features`` (all
    by default) are computed, in batches of at most 32 MB, so wide data costs what is shown.

    >>> s = sensitivity(np.zeros((2, 3)), np.zeros(3), np.ones(3), lambda r: r.sum(axis=1), np.zeros(3), np.array([1]), points=3)
    >>> s.for_output(0).current.tolist(), s.grid.tolist()
    ([[0.0, 0.5, 1.0]], [[0.0, 0.5, 1.0]])
    """
    d = len(lo)
    features = np.arange(d) if features is None else np.asarray(features, dtype=int)
    rows = np.vstack([np.asarray(row_values, dtype=np.float64)[None], others])
    grid = np.linspace(lo[features], hi[features], points).T  # features × points
    per_feature = len(rows) * points * d * 8
    group = max(1, ICE_BATCH_BYTES // per_feature)
    outputs = []
    for start in range(0, len(features), group):
        chosen = features[start:start + group]
        batch = np.repeat(rows[None, :, None, :], len(chosen), axis=0).repeat(points, axis=2)  # f × rows × points × d
        for k, j in enumerate(chosen):
            batch[k, :, :, j] = grid[start + k]
        out = predict(batch.reshape(-1, d))
        outputs.append(out.reshape(len(chosen), len(rows), points, -1))
    out = np.concatenate(outputs) if outputs else np.zeros((0, len(rows), points, 1))
    return Sensitivity(features, grid, out[:, 0], out[:, 1:])
