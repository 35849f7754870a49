"""ActivationAnalysis: each activation function's inputs and outputs over the data, with its curve."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import traitlets
from matplotlib.figure import Figure
from torch import nn

from ._widget import ModelWidget, static_file
from .core import encode_array
from .core.activation_analysis import ActivationUse, activation_analysis
from .core.figures import new_figure
from .core.tabular import prepare_tabular


def analysis_payload(uses: list[ActivationUse]) -> dict:
    if not uses:
        return {"names": []}
    stack = lambda attr: encode_array(np.stack([getattr(u, attr) for u in uses]).astype(np.float64))  # noqa: E731
    return {
        "names": [u.name for u in uses],
        "types": [u.type for u in uses],
        **{k: stack(k) for k in ("pre_edges", "pre_counts", "post_edges", "post_counts", "curve_x", "curve_y")},
        "dead": encode_array(np.array([u.dead_fraction for u in uses])),
        "saturated": encode_array(np.array([u.saturated_fraction for u in uses])),
    }


class ActivationAnalysis(ModelWidget):
    """For every activation layer (ReLU, GELU, Tanh, Sigmoid, ...): the distribution of the values
    going in over ``X`` with the function's curve drawn over the same range, the distribution
    coming out, and the share of units that are dead (never active) or saturated.
    ``selected_layer`` links to LayerBars.

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

    def __init__(
        self,
        model: nn.Module,
        X: object,
        *,
        feature_names: Sequence[str] | None = None,
        preprocess: Callable[[np.ndarray], object] | None = None,
        **kwargs: Any,
    ) -> None:
        self.data, _ = prepare_tabular(model, X, feature_names=feature_names, preprocess=preprocess)
        self._preprocess = preprocess
        self.uses: list[ActivationUse] = []
        super().__init__(model, **kwargs)
        self.refresh()

    def refresh(self) -> None:
        try:
            self.uses = activation_analysis(self.model, self.data.X, self._preprocess)
        except Exception as error:
            self.set_trait("message", f"analysis failed: {error}")
            return
        self.set_trait("message", "" if self.uses else "this model has no activation layers (nn.ReLU, nn.Tanh, ...); "
                                                        "functional calls like torch.relu inside forward() cannot be seen")
        self.set_trait("analysis", analysis_payload(self.uses))

    def figure(self) -> Figure:
        """Pre-activation histograms with the activation curve, one panel per layer."""
        fig = new_figure(4 * max(len(self.uses), 1), 2.8)
        for i, u in enumerate(self.uses):
            ax = fig.add_subplot(1, len(self.uses), i + 1)
            centres = (u.pre_edges[:-1] + u.pre_edges[1:]) / 2
            ax.bar(centres, u.pre_counts, width=np.diff(u.pre_edges), color="#bbbbbb")
            curve = ax.twinx()
            curve.plot(u.curve_x, u.curve_y, color="#4477aa")
            ax.set_title(f"{u.name} ({u.type}): {u.dead_fraction:.0%} dead, {u.saturated_fraction:.0%} saturated", fontsize=8)
            ax.tick_params(labelsize=6)
            curve.tick_params(labelsize=6)
        return fig
