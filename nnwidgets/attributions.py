"""Attributions: gradient saliency, gradient × input and integrated gradients for the current row."""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets
from matplotlib.figure import Figure

from ._tabular import TabularView
from ._view import static_file
from .core import encode_array
from .core.attributions import BASELINES, METHODS, OUTPUTS, Attributions as AttributionResult
from .core.figures import new_figure
from .core.figures_explain import NEGATIVE, POSITIVE
from .core.tasks import Attribution


class Attributions(TabularView):
    """Per-feature attributions of the chosen class for the current values, by three gradient
    methods side by side: saliency (the gradient), gradient × input, and integrated gradients from a
    ``baseline`` ("mean", "median", "min", "zeros" of X, or your own row). ``output`` attributes the
    class's logit or its probability (for a model that outputs probabilities: its log-probability or
    probability). All three come from one batched forward and backward pass; integrated gradients
    equal Captum's ``IntegratedGradients``.

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

    def __init__(self, source: Any, X: Any = None, **kwargs: Any) -> None:
        self._result: AttributionResult | None = None
        super().__init__(source, X, **kwargs)

    @traitlets.validate("steps")
    def _check_steps(self, proposal: dict) -> int:
        if proposal["value"] < 2:
            raise traitlets.TraitError(f"steps must be at least 2, got {proposal['value']}")
        return proposal["value"]

    @traitlets.validate("baseline")
    def _check_baseline(self, proposal: dict) -> Any:
        value = proposal["value"]
        if not isinstance(value, str) and len(value) != self.inspector.data.n_features:
            raise traitlets.TraitError(f"a custom baseline needs {self.inspector.data.n_features} values (one per feature), got {len(value)}")
        return value

    @traitlets.observe("baseline", "output", "steps")
    def _on_options(self, _: dict) -> None:
        if self._ready:
            self._update_safely({"options"})

    def update(self, changes: set[str]) -> None:
        if not changes & {"values", "target_class", "options", "model"}:
            return
        baseline = self.baseline if isinstance(self.baseline, str) else tuple(self.baseline)
        target = self.inspector.target_class if self.data.mode == "classification" else 0
        self.request_current("attributions", lambda values: Attribution(values, target, baseline, self.output, self.steps),
                             self._show)

    def _show(self, result: AttributionResult, values: np.ndarray) -> None:
        self._result = result
        self.set_trait("attributions", {
            "methods": list(METHODS),
            "values": encode_array(result.values),
            "delta": result.delta,
            "output": result.output,
            "for_values": encode_array(values),
        })

    def describe_failure(self, name: str) -> str:
        return "attributions failed"

    @property
    def result(self) -> AttributionResult | None:
        """The attributions for the current values and class (waits for them)."""
        self.wait()
        return self._result

    def figure(self) -> Figure:
        """The three methods' bars as a matplotlib Figure (features ordered by integrated gradients)."""
        self.ready_to_draw()
        result = self.result
        names = self.data.feature_names
        order = np.argsort(-np.abs(result.values[2]))
        fig = new_figure(12, 0.8 + 0.28 * len(order))
        for ax, method, row in zip(fig.subplots(1, 3, sharey=True), METHODS, result.values):
            ax.barh(range(len(order)), row[order], color=[POSITIVE if v > 0 else NEGATIVE for v in row[order]])
            ax.set_yticks(range(len(order)), [names[i] for i in order], fontsize=8)
            ax.axvline(0, color="#888888", linewidth=0.8)
            ax.set_title(method, fontsize=9)
        fig.axes[0].invert_yaxis()
        return fig
