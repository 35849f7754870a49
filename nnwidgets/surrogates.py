"""Surrogates: GAM, linear model and shallow tree fitted to the model, side by side with fidelity."""

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
from .core.gam_surrogate import TARGETS, GamOptions, fit_gam, target_for_rows
from .core.surrogates import fit_linear, fit_tree

KINDS = ("gam", "linear", "tree")


def _fidelity(s: Any) -> dict:
    return {"r2": s.fidelity_r2, "accuracy": s.fidelity_accuracy}


class Surrogates(TabularWidget):
    """Three global surrogates of the model, fitted to the same target (the chosen class's
    probability or logit, or the regression output) and scored on the same held-out rows: a GAM
    (one smooth curve per feature), a linear model and a decision tree of depth ``max_depth``
    (drawn, with the current row's path marked). Their fidelity side by side shows what each can
    capture; ``chosen`` picks the one whose prediction for the current row is compared with the model's.

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_diabetes
        data = load_diabetes()
        net = torch.nn.Sequential(torch.nn.Linear(10, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
        sur = nw.Surrogates(net, data.data, feature_names=data.feature_names)
        {k: round(v["r2"], 3) for k, v in sur.wait().fitted["fidelity"].items()}
    """

    _esm = static_file("surrogates.js")
    _css = static_file("surrogates.css")

    target = traitlets.Enum(TARGETS, default_value="probability").tag(sync=True)
    max_depth = traitlets.Int(3).tag(sync=True)
    chosen = traitlets.Enum(KINDS, default_value="gam").tag(sync=True)
    fitted = traitlets.Dict(read_only=True).tag(sync=True)
    row_predictions = traitlets.Dict(read_only=True).tag(sync=True)

    def __init__(self, model: Any, X: Any, **kwargs: Any) -> None:
        self.models: dict[str, Any] = {}
        self._key: tuple | None = None
        self._runner = LatestWins(self._set_busy)
        super().__init__(model, X, **kwargs)

    @traitlets.validate("max_depth")
    def _check_depth(self, proposal: dict) -> int:
        if not 1 <= proposal["value"] <= 6:
            raise traitlets.TraitError(f"max_depth must be between 1 and 6 (a tree people can read), got {proposal['value']}")
        return proposal["value"]

    @traitlets.observe("target", "max_depth")
    def _on_options(self, _: dict) -> None:
        if self._ready:
            self.update()

    def update(self) -> None:
        key = (self.target_class, self.target, self.max_depth, model_signature(self.model))
        if key == self._key and self.models:
            self._show_row()
            return
        self._key = key
        label, options, depth = self.target_class, GamOptions(target=self.target), self.max_depth

        def fit() -> dict:
            return {
                "gam": fit_gam(self.data, self.predict, label, options),
                "linear": fit_linear(self.data, self.predict, label, options),
                "tree": fit_tree(self.data, self.predict, label, options, depth),
            }

        def fail(error: Exception) -> None:
            self._key = None
            self._set_error(f"surrogate fit failed: {error}")

        self._runner.submit(fit, self._deliver, fail)

    def _deliver(self, models: dict) -> None:
        self.models = models
        gam, linear, tree = models["gam"], models["linear"], models["tree"]
        nodes = tree.nodes
        column = lambda attr, dtype: encode_array(np.array([getattr(n, attr) for n in nodes], dtype=dtype))  # noqa: E731
        self._set_error("")
        self.set_trait("fitted", {
            "fidelity": {k: _fidelity(m) for k, m in models.items()},
            "gam_features": encode_array(np.array([c.feature for c in gam.curves], dtype=np.int32)),
            "gam_importance": encode_array(np.array([c.importance for c in gam.curves])),
            "linear_effect": encode_array(linear.effect),
            "linear_intercept": linear.intercept,
            "tree": {k: column(k, dt) for k, dt in (("feature", np.int32), ("threshold", float), ("value", float),
                                                   ("samples", np.int32), ("left", np.int32), ("right", np.int32))},
            "target": self.target,
        })
        self._show_row()

    def _show_row(self) -> None:
        x = self.current[None, :]
        model_value = float(target_for_rows(self.data, self.predict, x, self.target_class, self.target)[0])
        self.set_trait("row_predictions", {
            "model": model_value,
            "gam": float(self.models["gam"].predict(x)[0]),
            "linear": float(self.models["linear"].intercept + self.models["linear"].coef @ x[0]),
            "tree": float(self.models["tree"].model.predict(x)[0]),
            "leaf": self.models["tree"].leaf_of(x[0]),
            "for_values": encode_array(self.current),
        })

    def refresh(self) -> None:
        self._key = None
        self.update()

    def wait(self, timeout: float | None = 120) -> "Surrogates":
        self._runner.wait(timeout)
        return self

    def figure(self) -> Figure:
        """Fidelity of the three surrogates, as a matplotlib Figure."""
        self.wait()
        fig = new_figure(5, 2.5)
        ax = fig.add_subplot()
        r2 = [self.models[k].fidelity_r2 for k in KINDS]
        ax.bar(KINDS, r2, color=["#ee6677" if k == self.chosen else "#4477aa" for k in KINDS])
        ax.set_ylabel("R² against the model (held-out rows)")
        ax.set_ylim(min(0.0, *r2), 1.0)
        return fig
