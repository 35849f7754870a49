"""Importance: permutation feature importance (global) beside sensitivity / ICE lines (local)."""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets
from matplotlib.figure import Figure

from ._background import LatestWins
from ._tabular_widget import TabularWidget
from ._widget import static_file
from .core import encode_array, model_signature
from .core.figures import new_figure
from .core.importance import METRICS, PermutationImportance, permutation_importance, sensitivity


class Importance(TabularWidget):
    """Left: how much a metric drops when each feature is shuffled (``repeats`` times; bars show
    the mean, whiskers one standard deviation). Right: for the current row, how the prediction of
    the chosen class moves across each feature's range (its ICE line, drawn over the lines of 30
    other rows for spread). Without labels ``y`` the model's own predictions are the reference.

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_iris
        iris = load_iris()
        net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        imp = nw.Importance(net, iris.data, y=iris.target, metric="accuracy", repeats=10)
        imp.wait().permutation.mean
    """

    _esm = static_file("importance.js")
    _css = static_file("importance.css")

    metric = traitlets.Unicode("").tag(sync=True)
    metrics = traitlets.List(traitlets.Unicode(), read_only=True).tag(sync=True)
    repeats = traitlets.Int(5).tag(sync=True)
    importance = traitlets.Dict(read_only=True).tag(sync=True)
    ice = traitlets.Dict(read_only=True).tag(sync=True)

    def __init__(self, model: Any, X: Any, *, y: Any = None, **kwargs: Any) -> None:
        self._y = None if y is None else np.asarray(y)
        self.permutation: PermutationImportance | None = None
        self.sensitivity = None
        self._key: tuple | None = None
        self._runner = LatestWins(self._set_busy)
        super().__init__(model, X, **kwargs)
        if self._y is not None and len(self._y) != len(self.data.X):
            raise ValueError(f"y has {len(self._y)} labels but X has {len(self.data.X)} rows")

    @traitlets.validate("repeats")
    def _check_repeats(self, proposal: dict) -> int:
        if proposal["value"] < 1:
            raise traitlets.TraitError(f"repeats must be at least 1, got {proposal['value']}")
        return proposal["value"]

    @traitlets.validate("metric")
    def _check_metric(self, proposal: dict) -> str:
        allowed = METRICS[self.data.mode]
        if proposal["value"] not in ("", *allowed):
            raise traitlets.TraitError(f"metric must be one of {allowed} for {self.data.mode}, got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.observe("metric", "repeats")
    def _on_options(self, _: dict) -> None:
        if self._ready:
            self.update()

    def update(self) -> None:
        if not self.metrics:
            self.set_trait("metrics", list(METRICS[self.data.mode]))
        if not self.metric:
            self.metric = METRICS[self.data.mode][0]
            return  # the metric's observer calls update again
        self._show_ice()
        key = (self.metric, self.repeats, model_signature(self.model))
        if key == self._key:
            return
        self._key = key
        metric, repeats = self.metric, self.repeats

        def deliver(result: PermutationImportance) -> None:
            self.permutation = result
            self.set_trait("importance", {
                "metric": result.metric, "baseline": result.baseline,
                "mean": encode_array(result.mean), "std": encode_array(result.std),
                "labels": self._y is not None,
            })

        def fail(error: Exception) -> None:
            self._key = None
            self._set_error(f"permutation importance failed: {error}")

        self._runner.submit(lambda: permutation_importance(self.data, self.predict, metric=metric, repeats=repeats, y=self._y),
                            deliver, fail)

    def _show_ice(self) -> None:
        try:
            s = sensitivity(self.data, self.predict, self.current, self.target_class)
        except Exception as error:
            self._set_error(f"sensitivity failed: {error}")
            return
        self._set_error("")
        self.sensitivity = s
        self.set_trait("ice", {"grid": encode_array(s.grid), "current": encode_array(s.current),
                               "background": encode_array(s.background), "for_values": encode_array(self.current)})

    def refresh(self) -> None:
        self._key = None
        self.update()

    def wait(self, timeout: float | None = 120) -> "Importance":
        self._runner.wait(timeout)
        return self

    def figure(self) -> Figure:
        """Importance bars with whiskers, as a matplotlib Figure."""
        self.wait()
        p = self.permutation
        order = np.argsort(-p.mean)
        fig = new_figure(6, 0.8 + 0.3 * len(order))
        ax = fig.add_subplot()
        ax.barh(range(len(order)), p.mean[order], xerr=p.std[order], color="#4477aa", ecolor="#333333")
        ax.set_yticks(range(len(order)), [self.data.feature_names[i] for i in order], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(f"drop in {p.metric} when shuffled ({self.repeats} repeats)")
        return fig
