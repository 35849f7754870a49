"""LimeExplainer: lime's local explanation of the current row, recomputed as values change."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import traitlets
from matplotlib.figure import Figure

from ._background import LatestWins
from ._tabular_widget import TabularWidget
from ._widget import static_file
from .core import encode_array, model_signature
from .core.figures import new_figure
from .core.figures_explain import draw_lime
from .core.lime_explain import LimeOptions, LimeResult, explain_lime

CACHE_SIZE = 64


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
        "for_values": encode_array(values),
    }


class LimeExplainer(TabularWidget):
    """Diverging bars of lime's feature weights for the current row and class, with lime's
    condition labels, the prediction, intercept, local prediction and local fidelity (R²).
    Runs off the main thread; the newest values win; results are cached.

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_iris
        iris = load_iris()
        net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        lime = nw.LimeExplainer(net, iris.data, feature_names=iris.feature_names,
                                class_names=iris.target_names, num_samples=2000)
        lime.wait()                   # in a script; in a notebook the view fills in by itself
        lime.result.conditions[:2]
    """

    _esm = static_file("lime_explainer.js")
    _css = static_file("lime_explainer.css")

    num_features = traitlets.Int(10).tag(sync=True)
    num_samples = traitlets.Int(5000).tag(sync=True)
    random_state = traitlets.Int(0, allow_none=True).tag(sync=True)
    discretize_continuous = traitlets.Bool(True).tag(sync=True)
    explanation = traitlets.Dict(read_only=True).tag(sync=True)

    def __init__(self, model: Any, X: Any, **kwargs: Any) -> None:
        self._cache: OrderedDict[tuple, LimeResult] = OrderedDict()
        self.result: LimeResult | None = None
        self._runner = LatestWins(self._set_busy)
        super().__init__(model, X, **kwargs)

    @traitlets.validate("num_features", "num_samples")
    def _check_positive(self, proposal: dict) -> int:
        if proposal["value"] < 1:
            raise traitlets.TraitError(f"{proposal['trait'].name} must be at least 1, got {proposal['value']}")
        return proposal["value"]

    @traitlets.observe("num_features", "num_samples", "random_state", "discretize_continuous")
    def _on_options(self, _: dict) -> None:
        if self._ready:
            self.update()

    @property
    def options(self) -> LimeOptions:
        return LimeOptions(self.num_features, self.num_samples, self.random_state, self.discretize_continuous)

    def update(self) -> None:
        values = self.current
        label = self.target_class
        options = self.options
        key = (values.tobytes(), label, options, model_signature(self.model))
        if key in self._cache:
            self._cache.move_to_end(key)
            self._show(self._cache[key], values)
            return
        job = lambda: explain_lime(self.data, self.predict, values, label, options)  # noqa: E731

        def deliver(result: LimeResult) -> None:
            self._cache[key] = result
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
            self._show(result, values)

        self._runner.submit(job, deliver, lambda e: self._set_error(f"LIME failed: {e}"))

    def _show(self, result: LimeResult, values: np.ndarray) -> None:
        self.result = result
        self._set_error("")
        self.set_trait("explanation", lime_payload(result, values))

    def refresh(self) -> None:
        self._cache.clear()
        self.update()

    def wait(self, timeout: float | None = 60) -> "LimeExplainer":
        """Block until the explanation for the current values is ready (for scripts and tests)."""
        self._runner.wait(timeout)
        return self

    def figure(self) -> Figure:
        """lime's bars for the current row as a matplotlib Figure."""
        self.wait()
        fig = new_figure(6.5, 0.8 + 0.32 * self.num_features)
        if self.result is not None:
            title = self.class_names[self.result.label] if self.mode == "classification" else "output"
            draw_lime(fig.add_subplot(), self.result, f"LIME · {title} · local fidelity R² {self.result.local_fidelity:.2f}")
        return fig
