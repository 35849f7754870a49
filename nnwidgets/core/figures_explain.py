"""Static matplotlib pictures of the explanation widgets, in the same colours."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .colormap import diverging_lut
from .gam_surrogate import GamSurrogate
from .lime_explain import LimeResult
from .tabular import Tabular

POSITIVE = tuple(diverging_lut()[-40] / 255)
NEGATIVE = tuple(diverging_lut()[40] / 255)
MARKER = "#ee6677"


def draw_prediction(ax: Axes, values: np.ndarray, class_names: Sequence[str], mode: str, target: int) -> None:
    if mode == "regression":
        ax.barh([0], values[:1], color=POSITIVE)
        ax.set_yticks([0], ["prediction"])
        ax.bar_label(ax.containers[0], fmt="%.4g")
        return
    colours = [MARKER if i == target else "#4477aa" for i in range(len(values))]
    ax.barh(np.arange(len(values)), values, color=colours)
    ax.set_yticks(np.arange(len(values)), list(class_names))
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.bar_label(ax.containers[0], fmt="%.3f")
    ax.set_xlabel("probability")


def draw_lime(ax: Axes, result: LimeResult, title: str) -> None:
    weights = np.array(result.weights)
    y = np.arange(len(weights))
    ax.barh(y, weights, color=[POSITIVE if w > 0 else NEGATIVE for w in weights])
    ax.set_yticks(y, list(result.conditions), fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="#888888", linewidth=0.8)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(f"weight (intercept {result.intercept:.3g}, local prediction {result.local_prediction:.3g})")


def draw_gam(fig: Figure, surrogate: GamSurrogate, data: Tabular, values: np.ndarray) -> None:
    n = len(surrogate.curves)
    cols = min(4, n)
    rows = -(-n // cols)
    contributions = surrogate.contributions(values)
    for i, curve in enumerate(surrogate.curves):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.fill_between(curve.grid, curve.lower, curve.upper, color="#bbbbbb", alpha=0.6, linewidth=0)
        ax.plot(curve.grid, curve.effect, color="#4477aa")
        column = data.X[:, curve.feature]
        ax.plot(column, np.full_like(column, curve.lower.min()), "|", color="#555555", alpha=0.3, markersize=6)
        ax.plot([values[curve.feature]], [contributions[curve.feature]], "o", color=MARKER)
        ax.set_title(data.feature_names[curve.feature], fontsize=8)
        ax.tick_params(labelsize=7)
    fidelity = f"surrogate fidelity: R² {surrogate.fidelity_r2:.3f}"
    if surrogate.fidelity_accuracy is not None:
        fidelity += f", agreement {surrogate.fidelity_accuracy:.1%}"
    fig.suptitle(fidelity, fontsize=9)
