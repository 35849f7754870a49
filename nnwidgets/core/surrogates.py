"""Simpler global surrogates beside the GAM: a linear model and a shallow decision tree, both
fitted (scikit-learn) to the same target as the GAM, with fidelity on the same held-out rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.tree import DecisionTreeRegressor

from .gam_surrogate import fidelity
from .sampling import Split


@dataclass(frozen=True)
class LinearSurrogate:
    """``coef`` per feature in the feature's own units; ``effect`` = coef × feature std (comparable)."""

    coef: np.ndarray
    intercept: float
    effect: np.ndarray
    fidelity_r2: float
    fidelity_accuracy: float | None
    split: Split

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return self.intercept + np.asarray(rows, dtype=np.float64) @ self.coef


@dataclass(frozen=True)
class TreeNode:
    """A node of the fitted tree; leaves have ``feature == -1`` and no children."""

    feature: int
    threshold: float
    value: float
    samples: int
    left: int
    right: int


@dataclass(frozen=True)
class TreeSurrogate:
    nodes: tuple[TreeNode, ...]
    depth: int
    fidelity_r2: float
    fidelity_accuracy: float | None
    model: DecisionTreeRegressor
    split: Split

    def leaf_of(self, row_values: np.ndarray) -> int:
        return int(self.model.apply(np.asarray(row_values, dtype=np.float64)[None, :])[0])

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return self.model.predict(np.asarray(rows, dtype=np.float64))


def fit_linear(X_fit: np.ndarray, y_fit: np.ndarray, X_score: np.ndarray, y_score: np.ndarray, mode: str, target: str,
               split: Split) -> LinearSurrogate:
    """Least squares on the model's outputs ``y_fit``; fidelity on the scoring rows."""
    model = LinearRegression().fit(X_fit, y_fit)
    r2, accuracy = fidelity(model.predict(X_score), y_score, mode, target)
    return LinearSurrogate(model.coef_.copy(), float(model.intercept_), model.coef_ * X_fit.std(axis=0), r2, accuracy, split)


def fit_tree(X_fit: np.ndarray, y_fit: np.ndarray, X_score: np.ndarray, y_score: np.ndarray, mode: str, target: str,
             split: Split, max_depth: int = 3, random_state: int = 0) -> TreeSurrogate:
    """A regression tree of at most ``max_depth`` levels on the model's outputs ``y_fit``."""
    if max_depth < 1:
        raise ValueError(f"max_depth must be at least 1, got {max_depth}")
    model = DecisionTreeRegressor(max_depth=max_depth, random_state=random_state).fit(X_fit, y_fit)
    r2, accuracy = fidelity(model.predict(X_score), y_score, mode, target)
    t = model.tree_
    nodes = tuple(
        TreeNode(int(t.feature[i]) if t.children_left[i] != -1 else -1, float(t.threshold[i]), float(t.value[i].ravel()[0]),
                 int(t.n_node_samples[i]), int(t.children_left[i]), int(t.children_right[i]))
        for i in range(t.node_count)
    )
    return TreeSurrogate(nodes, int(model.get_depth()), r2, accuracy, model, split)
