"""Static matplotlib pictures of the same data the widgets show, in the same colours."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from .colormap import DIVERGING, diverging_lut
from .heatmap import Heatmap
from .layer_table import Layer

BAR_COLOUR = "#4477aa"  # Paul Tol's bright blue: distinct from the no-weights grey for all colour visions
NO_WEIGHTS_COLOUR = "#bbbbbb"
SELECTED_COLOUR = "#ee6677"


def metric_values(rows: Sequence[Layer], metric: str) -> np.ndarray:
    """The bar lengths: ``"parameters"`` or ``"output units"`` (NaN where unknown)."""
    if metric == "parameters":
        return np.array([r.params for r in rows], dtype=float)
    if metric == "output units":
        return np.array([np.nan if r.out_size is None else r.out_size for r in rows], dtype=float)
    raise ValueError(f"metric must be 'parameters' or 'output units', got {metric!r}")


def display_name(row: Layer) -> str:
    return row.name or f"({row.type})"


def draw_layer_bars(ax: Axes, rows: Sequence[Layer], metric: str, log_scale: bool, selected: str) -> None:
    values = np.nan_to_num(metric_values(rows, metric))
    colours = [
        SELECTED_COLOUR if r.name == selected else BAR_COLOUR if r.has_weights else NO_WEIGHTS_COLOUR
        for r in rows
    ]
    y = np.arange(len(rows))
    ax.barh(y, values, color=colours, hatch=[None if r.has_weights else "//" for r in rows])
    ax.set_yticks(y, [display_name(r) for r in rows], fontsize=8)
    ax.invert_yaxis()
    if log_scale and (values > 0).any():
        ax.set_xscale("log")
    ax.set_xlabel(metric)


def draw_heatmap(ax: Axes, heat: Heatmap, title: str) -> None:
    r0, r1, c0, c1 = heat.region
    limit = max(abs(heat.min), abs(heat.max)) or 1.0
    image = ax.imshow(
        heat.values,
        cmap=ListedColormap(diverging_lut() / 255.0, name=DIVERGING),
        vmin=-limit,
        vmax=limit,
        interpolation="nearest",
        aspect="auto",
        extent=(c0 - 0.5, c1 - 0.5, r1 - 0.5, r0 - 0.5),
    )
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.05)
    bar.set_ticks([heat.min, 0.0, heat.max])
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(heat.row_label or "row")
    ax.set_xlabel(heat.col_label)


def new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")
