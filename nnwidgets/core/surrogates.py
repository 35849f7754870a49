"""Simpler global surrogates beside the GAM: a linear model and a shallow decision tree, both
fitted (scikit-learn) to the same target as the GAM, with fidelity on the same held-out rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.tree import DecisionTreeRegressor

from .gam_surrogate import GamOptions, fidelity, holdout_split, surrogate_target
from .tabular import Tabular


@dataclass(frozen=True)
class LinearSurrogate:
    """``coef`` per feature in the feature's own units; ``effect`` = coef × feature std (comparable)."""

    coef: np.ndarray
    intercept: float
    effect: np.ndarray
    fidelity_r2: float
    fidelity_accuracy: float | None


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

    def leaf_of(self, row_values: np.ndarray) -> int:
        return int(self.model.apply(np.asarray(row_values, dtype=np.float64)[None, :])[0])


def fit_linear(data: Tabular, predict: Callable[[np.ndarray], np.ndarray], label: int = 0,
               options: GamOptions = GamOptions()) -> LinearSurrogate:
    """Least squares on the model's outputs; fidelity on the GAM's held-out rows."""
    y = surrogate_target(data, predict, label, options.target)
    train, test = holdout_split(len(data.X), options.holdout, options.random_state)
    model = LinearRegression().fit(data.X[train], y[train])
    r2, accuracy = fidelity(model.predict(data.X[test]), y[test], data.mode, options.target)
    return LinearSurrogate(model.coef_.copy(), float(model.intercept_), model.coef_ * data.X.std(axis=0), r2, accuracy)


def fit_tree(data: Tabular, predict: Callable[[np.ndarray], np.ndarray], label: int = 0,
             options: GamOptions = GamOptions(), max_depth: int = 3) -> TreeSurrogate:
    """A regression tree of at most ``max_depth`` levels on the model's outputs."""
    if max_depth < 1:
        raise ValueError(f"max_depth must be at least 1, got {max_depth}")
    y = surrogate_target(data, predict, label, options.target)
    train, test = holdout_split(len(data.X), options.holdout, options.random_state)
    model = DecisionTreeRegressor(max_depth=max_depth, random_state=options.random_state).fit(data.X[train], y[train])
    r2, accuracy = fidelity(model.predict(data.X[test]), y[test], data.mode, options.target)
    t = model.tree_
    nodes = tuple(
        TreeNode(int(t.feature[i]) if t.children_left[i] != -1 else -1, float(t.threshold[i]), float(t.value[i].ravel()[0]),
                 int(t.n_node_samples[i]), int(t.children_left[i]), int(t.children_right[i]))
        for i in range(t.node_count)
    )
    return TreeSurrogate(nodes, int(model.get_depth()), r2, accuracy, model)
