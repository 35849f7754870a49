"""ActivationAnalysis: each activation function's inputs and outputs over the data, with its curve."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import traitlets
from matplotlib.figure import Figure

from ._view import View, static_file
from .core import encode_array
from .core.activation_analysis import ActivationUse
from .core.figures import new_figure
from .core.tasks import DataResult, OverData


def analysis_payload(uses: list[ActivationUse], total_rows: int) -> dict:
    if not uses:
        return {"names": []}
    stack = lambda attr: encode_array(np.stack([getattr(u, attr) for u in uses]).astype(np.float64))  # noqa: E731
    return {
        "names": [u.name for u in uses],
        "types": [u.type for u in uses],
        **{k: stack(k) for k in ("pre_edges", "pre_counts", "post_edges", "post_counts", "curve_x", "curve_y")},
        "dead": encode_array(np.array([u.dead_fraction for u in uses])),
        "saturated": encode_array(np.array([u.saturated_fraction for u in uses])),
        "curve_notes": [u.curve_note for u in uses],
        "histogram_rows": uses[0].rows,
        "rows": total_rows,
    }


class ActivationAnalysis(View):
    """For every activation layer (ReLU, GELU, Tanh, Sigmoid, ...): the distribution of the values
    going in over ``X`` with the function's curve drawn over the same range, the distribution
    coming out, and the share of units that are dead (never active) or saturated (at one of the
    function's own bounds). It shares the inspector's one pass over the data with
    :class:`Activations`. ``selected_layer`` is the inspector's (linked to LayerBars).

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_digits
        X = load_digits().data / 16
        net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10))
        nw.ActivationAnalysis(net, X)
    """

    _esm = static_file("activation_analysis.js")
    _css = static_file("activation_analysis.css")

    selected_layer = traitlets.Unicode("").tag(sync=True)
    analysis = traitlets.Dict(read_only=True).tag(sync=True)
    message = traitlets.Unicode("", read_only=True).tag(sync=True)

    needs_data: ClassVar[bool] = True
    mirrors: ClassVar[tuple[str, ...]] = ("selected_layer",)

    def __init__(self, source: Any, X: Any = None, **kwargs: Any) -> None:
        self._uses: list[ActivationUse] = []
        super().__init__(source, X, **kwargs)

    def update(self, changes: set[str]) -> None:
        if "model" in changes:
            self.request("analysis", OverData(), self._show)

    def _show(self, result: DataResult) -> None:
        self._uses = result.pass_.analysis
        self.set_trait("message", "" if self._uses else "this model has no activation layers (nn.ReLU, nn.Tanh, ...); "
                                                          "functional calls like torch.relu inside forward() cannot be seen")
        self.set_trait("analysis", analysis_payload(self._uses, self.inspector.data.n_rows))

    def describe_failure(self, name: str) -> str:
        return "analysis failed"

    @property
    def uses(self) -> list[ActivationUse]:
        """One :class:`~nnwidgets.core.activation_analysis.ActivationUse` per activation layer (waits for the pass)."""
        self.wait()
        return list(self._uses)

    def figure(self) -> Figure:
        """Pre-activation histograms with the activation curve, one panel per layer."""
        self.ready_to_draw()
        uses = self.uses
        fig = new_figure(4 * max(len(uses), 1), 2.8)
        for i, u in enumerate(uses):
            ax = fig.add_subplot(1, len(uses), i + 1)
            centres = (u.pre_edges[:-1] + u.pre_edges[1:]) / 2
            ax.bar(centres, u.pre_counts, width=np.diff(u.pre_edges), color="#bbbbbb")
            curve = ax.twinx()
            curve.plot(u.curve_x, u.curve_y, color="#4477aa")
            ax.set_title(f"{u.name} ({u.type}): {u.dead_fraction:.0%} dead, {u.saturated_fraction:.0%} saturated", fontsize=8)
            ax.tick_params(labelsize=6)
            curve.tick_params(labelsize=6)
        return fig
