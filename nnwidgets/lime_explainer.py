"""LimeExplainer: lime's local explanation of the current row, recomputed as values change."""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets
from matplotlib.figure import Figure

from ._tabular import TabularView
from ._view import static_file
from .core import encode_array
from .core.figures import new_figure
from .core.figures_explain import draw_lime
from .core.lime_explain import LimeOptions, LimeResult
from .core.tasks import Lime


def lime_payload(result: LimeResult, values: np.ndarray) -> dict:
    return {
        "features": encode_array(np.array(result.features, dtype=np.int32)),
        "conditions": list(result.conditions),
        "weights": encode_array(np.array(result.weights)),
        "intercept": result.intercept,
        "local_prediction": result.local_prediction,
        "local_fidelity": result.local_fidelity,
        "prediction": encode_array(np.array(result.prediction)),
        "label": result.label,
        "samples": result.samples,
        "training_rows": result.training_rows,
        "total_rows": result.total_rows,
        "for_values": encode_array(values),
    }


class LimeExplainer(TabularView):
    """Diverging bars of lime's feature weights for the current row and class, with lime's
    condition labels, the prediction, intercept, local prediction and local fidelity (R²). The
    numbers are lime's own (``explanation.as_list()``). Runs in the background; the newest values
    win; results are cached per model version and shared with other views of the inspector.

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_iris
        iris = load_iris()
        net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        lime = nw.LimeExplainer(net, iris.data, feature_names=iris.feature_names,
                                class_names=iris.target_names, num_samples=2000)
        lime.result.conditions[:2]    # waits for the explanation (in a notebook the view fills in by itself)
    """

    _esm = static_file("lime_explainer.js")
    _css = static_file("lime_explainer.css")

    num_features = traitlets.Int(10).tag(sync=True)
    num_samples = traitlets.Int(5000).tag(sync=True)
    random_state = traitlets.Int(0, allow_none=True).tag(sync=True)
    discretize_continuous = traitlets.Bool(True).tag(sync=True)
    explanation = traitlets.Dict(read_only=True).tag(sync=True)

    def __init__(self, source: Any, X: Any = None, **kwargs: Any) -> None:
        self._result: LimeResult | None = None
        super().__init__(source, X, **kwargs)

    @traitlets.validate("num_features", "num_samples")
    def _check_positive(self, proposal: dict) -> int:
        if proposal["value"] < 1:
            raise traitlets.TraitError(f"{proposal['trait'].name} must be at least 1, got {proposal['value']}")
        return proposal["value"]

    @traitlets.observe("num_features", "num_samples", "random_state", "discretize_continuous")
    def _on_options(self, _: dict) -> None:
        if self._ready:
            self._update_safely({"options"})

    @property
    def options(self) -> LimeOptions:
        return LimeOptions(self.num_features, self.num_samples, self.random_state, self.discretize_continuous)

    def update(self, changes: set[str]) -> None:
        if not changes & {"values", "target_class", "options", "model"}:
            return
        values = self.current
        label = self.inspector.target_class

        def show(result: LimeResult) -> None:
            self._result = result
            self.set_trait("explanation", lime_payload(result, values))

        self.request("lime", Lime(tuple(values.tolist()), label, self.options), show)

    def describe_failure(self, name: str) -> str:
        return "LIME failed"

    @property
    def result(self) -> LimeResult | None:
        """lime's explanation of the current values (waits for it)."""
        self.wait()
        return self._result

    def figure(self) -> Figure:
        """lime's bars for the current row as a matplotlib Figure."""
        self.ready_to_draw()
        result = self.result
        fig = new_figure(6.5, 0.8 + 0.32 * self.num_features)
        if result is not None:
            title = self.class_names[result.label] if self.mode == "classification" else "output"
            draw_lime(fig.add_subplot(), result, f"LIME · {title} · local fidelity R² {result.local_fidelity:.2f}")
        return fig
