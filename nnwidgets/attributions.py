"""Attributions: gradient saliency, gradient × input and integrated gradients for the current row."""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets
from matplotlib.figure import Figure

from ._tabular_widget import TabularWidget
from ._widget import static_file
from .core import encode_array
from .core.attributions import BASELINES, METHODS, OUTPUTS, attribute
from .core.figures import new_figure
from .core.figures_explain import NEGATIVE, POSITIVE


class Attributions(TabularWidget):
    """Per-feature attributions of the chosen class for the current values, by three gradient
    methods side by side (computed with Captum): saliency (the gradient), gradient × input, and
    integrated gradients from a ``baseline`` ("mean", "median", "min", "zeros" of X, or your own
    row). Same arguments and ``row``/``values`` traits as the other explanation widgets.

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_iris
        iris = load_iris()
        net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        attr = nw.Attributions(net, iris.data, feature_names=iris.feature_names, class_names=iris.target_names)
        attr.row = 60
        attr.result.values[2]      # integrated gradients, one value per feature
    """

    _esm = static_file("attributions.js")
    _css = static_file("attributions.css")

    baseline = traitlets.Union([traitlets.Enum(BASELINES), traitlets.List(traitlets.Float())], default_value="mean").tag(sync=True)
    output = traitlets.Enum(OUTPUTS, default_value="logit").tag(sync=True)
    steps = traitlets.Int(50, help="integration steps of integrated gradients").tag(sync=True)
    attributions = traitlets.Dict(read_only=True).tag(sync=True)

    def __init__(self, model: Any, X: Any, **kwargs: Any) -> None:
        self._preprocess = kwargs.get("preprocess")
        self.result = None
        super().__init__(model, X, **kwargs)

    @traitlets.validate("steps")
    def _check_steps(self, proposal: dict) -> int:
        if proposal["value"] < 2:
            raise traitlets.TraitError(f"steps must be at least 2, got {proposal['value']}")
        return proposal["value"]

    @traitlets.observe("baseline", "output", "steps")
    def _on_options(self, _: dict) -> None:
        if self._ready:
            self.update()

    def update(self) -> None:
        try:
            self.result = attribute(
                self.model, self.data, self.current, self.target_class,
                baseline=self.baseline if isinstance(self.baseline, str) else np.asarray(self.baseline),
                output=self.output, steps=self.steps, preprocess=self._preprocess,
            )
        except Exception as error:
            self._set_error(f"attributions failed: {error}")
            return
        self._set_error("")
        self.set_trait("attributions", {
            "methods": list(METHODS),
            "values": encode_array(self.result.values),
            "delta": self.result.delta,
            "for_values": encode_array(self.current),
        })

    def figure(self) -> Figure:
        """The three methods' bars as a matplotlib Figure (features ordered by integrated gradients)."""
        names = self.data.feature_names
        order = np.argsort(-np.abs(self.result.values[2]))
        fig = new_figure(12, 0.8 + 0.28 * len(order))
        for ax, method, row in zip(fig.subplots(1, 3, sharey=True), METHODS, self.result.values):
            ax.barh(range(len(order)), row[order], color=[POSITIVE if v > 0 else NEGATIVE for v in row[order]])
            ax.set_yticks(range(len(order)), [names[i] for i in order], fontsize=8)
            ax.axvline(0, color="#888888", linewidth=0.8)
            ax.set_title(method, fontsize=9)
        fig.axes[0].invert_yaxis()
        return fig
