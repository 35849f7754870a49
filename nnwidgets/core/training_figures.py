"""The training monitor as a static matplotlib picture: metric curves, then per-layer small multiples."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .figures import BAR_COLOUR, SELECTED_COLOUR, new_figure
from .training_monitor import HEALTHY_UPDATE_RATIO, STATS, series_name

# Paul Tol's bright scheme: distinguishable for all common colour visions.
METRIC_COLOURS = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377")
STAT_TITLES = {"weight_norm": "weight norm", "grad_norm": "gradient norm", "update_ratio": "update / weight",
               "dead_share": "dead units"}
MAX_FIGURE_LAYERS = 8
MAX_FIGURE_METRICS = 4


def draw_training(history: dict[str, list[tuple[int, float]]], metrics: list[str], layers: list[str], selected: str,
                  warnings: list[dict]) -> Figure:
    """Curves of up to four metrics on top; below, one row per layer (the selected one first when it
    would not fit) and one column per statistic, log axes except for the dead share."""
    shown_layers = layers[:MAX_FIGURE_LAYERS]
    if selected in layers and selected not in shown_layers:
        shown_layers = [selected, *layers[: MAX_FIGURE_LAYERS - 1]]
    stats = [s for s in STATS if any(history.get(series_name(layer, s)) for layer in shown_layers)] or list(STATS[:3])
    metrics = metrics[:MAX_FIGURE_METRICS]
    if not metrics and not shown_layers:
        fig = new_figure(5, 2)
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "nothing recorded yet: train the model (optimizer.step()) or call monitor.log(loss=...)",
                ha="center", va="center", wrap=True)
        ax.set_axis_off()
        return fig
    columns = max(len(stats), len(metrics), 1)
    rows = (1 if metrics else 0) + len(shown_layers)
    fig = new_figure(2.6 * columns, 1.3 + 1.25 * rows)
    grid = fig.add_gridspec(rows, columns)
    row = 0
    if metrics:
        for j, name in enumerate(metrics):
            ax = fig.add_subplot(grid[0, j])
            pairs = np.array(history.get(name, []), dtype=float).reshape(-1, 2)
            ax.plot(pairs[:, 0], pairs[:, 1], color=METRIC_COLOURS[j % len(METRIC_COLOURS)], lw=1.2)
            ax.set_title(name, fontsize=9)
            ax.set_xlabel("step", fontsize=8)
            ax.tick_params(labelsize=7)
        row = 1
    flagged = {w["layer"] for w in warnings}
    for i, layer in enumerate(shown_layers):
        for j, stat in enumerate(stats):
            ax = fig.add_subplot(grid[row + i, j])
            pairs = np.array(history.get(series_name(layer, stat), []), dtype=float).reshape(-1, 2)
            colour = SELECTED_COLOUR if layer == selected else BAR_COLOUR
            if stat == "dead_share":
                ax.plot(pairs[:, 0], pairs[:, 1], color=colour, lw=1)
                ax.set_ylim(-0.02, 1.02)
                if not len(pairs):
                    ax.text(0.5, 0.5, "no ReLU-family layer follows", ha="center", va="center", fontsize=7,
                            transform=ax.transAxes, color="#777777")
                    ax.set_xticks([])
            else:
                positive = pairs[np.isfinite(pairs[:, 1]) & (pairs[:, 1] > 0)]
                ax.plot(positive[:, 0], positive[:, 1], color=colour, lw=1)
                if len(positive):
                    ax.set_yscale("log")
                if stat == "update_ratio":
                    ax.axhline(HEALTHY_UPDATE_RATIO, color="#555555", ls="--", lw=0.8)
            ax.tick_params(which="both", labelsize=7)
            if i == 0:
                ax.set_title(STAT_TITLES[stat], fontsize=9)
            if j == 0:
                ax.set_ylabel(f"{layer or '(model)'}{' ⚠' if layer in flagged else ''}", fontsize=8, rotation=0,
                              ha="right", va="center")
    return fig
