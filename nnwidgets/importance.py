"""Importance: permutation feature importance (global) beside sensitivity / ICE lines (local)."""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets
from matplotlib.figure import Figure

from ._tabular import TabularView
from ._view import static_file
from .core import encode_array
from .core.figures import new_figure
from .core.importance import METRICS, PermutationImportance, Sensitivity
from .core.tasks import Ice, Importance as ImportanceTask

ICE_SHOWN = 12


class Importance(TabularView):
    """Left: how much a metric drops when each feature is shuffled (``repeats`` times over ``rows``
    rows, a sample of bigger data; bars show the mean, whiskers one standard deviation). Right: for
    the current row, how the prediction of the chosen class moves across a feature's range (its ICE
    line, drawn over the lines of 30 other rows for spread), for the features in ``ice_features`` —
    the 12 most important unless you choose (click a bar). Without labels (the inspector's ``y``) the
    model's own predictions are the reference.

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_iris
        iris = load_iris()
        net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        imp = nw.Importance(net, iris.data, y=iris.target, metric="accuracy", repeats=10)
        imp.permutation.mean          # waits for the shuffles
    """

    _esm = static_file("importance.js")
    _css = static_file("importance.css")

    metric = traitlets.Unicode("").tag(sync=True)
    metrics = traitlets.List(traitlets.Unicode(), read_only=True).tag(sync=True)
    repeats = traitlets.Int(5).tag(sync=True)
    rows = traitlets.Int(0, help="rows shuffled for permutation importance, a sample of bigger data (0: chosen from the width)").tag(sync=True)
    ice_features = traitlets.List(traitlets.Int(), help="features whose ICE lines are drawn; [] until the importance ranks them").tag(sync=True)
    importance = traitlets.Dict(read_only=True).tag(sync=True)
    ice = traitlets.Dict(read_only=True).tag(sync=True)

    def __init__(self, source: Any, X: Any = None, **kwargs: Any) -> None:
        self._permutation: PermutationImportance | None = None
        self._sensitivity: Sensitivity | None = None
        self._chosen_by_user = "ice_features" in kwargs
        super().__init__(source, X, **kwargs)

    @traitlets.default("metric")
    def _default_metric(self) -> str:
        return METRICS[self.inspector.data.mode][0]

    @traitlets.default("metrics")
    def _default_metrics(self) -> list[str]:
        return list(METRICS[self.inspector.data.mode])

    @traitlets.validate("repeats", "rows")
    def _check_positive(self, proposal: dict) -> int:
        least = 0 if proposal["trait"].name == "rows" else 1
        if proposal["value"] < least:
            raise traitlets.TraitError(f"{proposal['trait'].name} must be at least {least}, got {proposal['value']}")
        return proposal["value"]

    @traitlets.validate("ice_features")
    def _check_ice_features(self, proposal: dict) -> list[int]:
        d = self.inspector.data.n_features
        bad = [j for j in proposal["value"] if not 0 <= j < d]
        if bad:
            raise traitlets.TraitError(f"ice_features are feature indices between 0 and {d - 1}, got {bad}")
        return list(dict.fromkeys(proposal["value"]))

    @traitlets.validate("metric")
    def _check_metric(self, proposal: dict) -> str:
        allowed = METRICS[self.inspector.data.mode]
        if proposal["value"] not in allowed:
            raise traitlets.TraitError(f"metric must be one of {allowed} for {self.inspector.data.mode}, got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.observe("metric", "repeats", "rows")
    def _on_options(self, _: dict) -> None:
        if self._ready:
            self._update_safely({"options"})

    @traitlets.observe("ice_features")
    def _on_ice_features(self, change: dict) -> None:
        if self._ready and not self._following_ranking:
            self._chosen_by_user = True
            self._update_safely({"ice features"})

    _following_ranking = False

    @property
    def shown_features(self) -> tuple[int, ...]:
        """The features whose ICE lines are drawn: the chosen ones, else the first 12 until ranked."""
        return tuple(self.ice_features) or tuple(range(min(ICE_SHOWN, self.inspector.data.n_features)))

    def update(self, changes: set[str]) -> None:
        if changes & {"options", "model"}:
            self.request("importance", ImportanceTask(self.metric, self.repeats, self.rows), self._show_importance)
        if changes & {"values", "target_class", "model", "ice features"}:
            features = self.shown_features
            self.request_current("ice", lambda values: Ice(values, features), self._show_ice)

    def _show_importance(self, result: PermutationImportance) -> None:
        self._permutation = result
        if not self._chosen_by_user:  # follow the ranking: the most important features' ICE lines
            ranked = [int(j) for j in np.argsort(-result.mean)[:ICE_SHOWN]]
            if ranked != list(self.ice_features):
                self._following_ranking = True
                try:
                    self.ice_features = ranked
                finally:
                    self._following_ranking = False
                self._update_safely({"ice features"})
        self.set_trait("importance", {
            "metric": result.metric, "baseline": result.baseline,
            "mean": encode_array(result.mean), "std": encode_array(result.std),
            "labels": result.labels, "rows": result.rows, "repeats": result.repeats, "total_rows": result.total_rows,
        })

    def _show_ice(self, result: Sensitivity, values: np.ndarray) -> None:
        column = self.inspector.target_class if self.data.mode == "classification" else 0
        s = result.for_output(column)
        self._sensitivity = s
        self.set_trait("ice", {"features": encode_array(s.features.astype(np.int32)), "grid": encode_array(s.grid),
                               "current": encode_array(s.current), "background": encode_array(s.background),
                               "for_values": encode_array(values), "target_class": column})

    def describe_failure(self, name: str) -> str:
        return "permutation importance failed" if name == "importance" else "sensitivity failed"

    @property
    def permutation(self) -> PermutationImportance | None:
        """The permutation importance for the current metric and repeats (waits for it)."""
        self.wait()
        return self._permutation

    @property
    def sensitivity(self) -> Sensitivity | None:
        """The ICE lines through the current values, for the explained class (waits for them)."""
        self.wait()
        return self._sensitivity

    def figure(self) -> Figure:
        """Importance bars with whiskers, as a matplotlib Figure."""
        self.ready_to_draw()
        p = self.permutation
        order = np.argsort(-p.mean)
        fig = new_figure(6, 0.8 + 0.3 * len(order))
        ax = fig.add_subplot()
        ax.barh(range(len(order)), p.mean[order], xerr=p.std[order], color="#4477aa", ecolor="#333333")
        ax.set_yticks(range(len(order)), [self.data.feature_names[i] for i in order], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(f"drop in {p.metric} when shuffled ({p.repeats} repeats, {p.rows:,} rows)")
        return fig
