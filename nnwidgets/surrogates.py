"""Surrogates: GAM, linear model and shallow tree fitted to the model, side by side with fidelity."""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets
from matplotlib.figure import Figure

from ._tabular import FittedView
from ._view import static_file
from .core import encode_array
from .core.figures import new_figure
from .core.gam_surrogate import TARGETS
from .core.tasks import SurrogateFits, SurrogateRow

KINDS = ("gam", "linear", "tree")


def _fidelity(s: Any) -> dict:
    return {"r2": s.fidelity_r2, "accuracy": s.fidelity_accuracy}


def fitted_payload(models: dict, target: str) -> dict:
    gam, linear, tree = models["gam"], models["linear"], models["tree"]
    column = lambda attr, dtype: encode_array(np.array([getattr(n, attr) for n in tree.nodes], dtype=dtype))  # noqa: E731
    return {
        "fidelity": {k: _fidelity(m) for k, m in models.items()},
        "gam_features": encode_array(np.array([c.feature for c in gam.curves], dtype=np.int32)),
        "gam_importance": encode_array(np.array([c.importance for c in gam.curves])),
        "linear_effect": encode_array(linear.effect),
        "linear_intercept": linear.intercept,
        "tree": {k: column(k, dt) for k, dt in (("feature", np.int32), ("threshold", float), ("value", float),
                                               ("samples", np.int32), ("left", np.int32), ("right", np.int32))},
        "target": target,
        "fitted_rows": gam.fitted_rows,
        "scored_rows": gam.scored_rows,
        "split": gam.split.describe(),
    }


class Surrogates(FittedView):
    """Three global surrogates of the model, fitted to the same target (the chosen class's
    probability or log-odds, or the regression output) and scored on the same held-out rows: a GAM
    (one smooth curve per feature; the same fit :class:`GamExplainer` shows), a linear model and a
    decision tree of depth ``max_depth`` (drawn, with the current row's path marked). Their fidelity
    side by side shows what each can capture; ``chosen`` picks the one whose prediction for the
    current row is compared with the model's.

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_diabetes
        data = load_diabetes()
        net = torch.nn.Sequential(torch.nn.Linear(10, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
        sur = nw.Surrogates(net, data.data, feature_names=data.feature_names)
        {k: round(m.fidelity_r2, 3) for k, m in sur.models.items()}   # waits for the fits
    """

    _esm = static_file("surrogates.js")
    _css = static_file("surrogates.css")

    target = traitlets.Enum(TARGETS, default_value="probability").tag(sync=True)
    max_depth = traitlets.Int(3).tag(sync=True)
    chosen = traitlets.Enum(KINDS, default_value="gam").tag(sync=True)
    fit_rows = traitlets.Int(0, help="rows the surrogates are fitted on when X has more (0: as many as fit in memory)").tag(sync=True)
    score_rows = traitlets.Int(10_000, help="held-out rows their fidelity is measured on when X has more").tag(sync=True)
    fitted = traitlets.Dict(read_only=True).tag(sync=True)
    row_predictions = traitlets.Dict(read_only=True).tag(sync=True)

    def __init__(self, source: Any, X: Any = None, **kwargs: Any) -> None:
        self._models: dict[str, Any] = {}
        super().__init__(source, X, **kwargs)

    @traitlets.validate("max_depth")
    def _check_depth(self, proposal: dict) -> int:
        if not 1 <= proposal["value"] <= 6:
            raise traitlets.TraitError(f"max_depth must be between 1 and 6 (a tree people can read), got {proposal['value']}")
        return proposal["value"]

    @traitlets.observe("target", "max_depth", "fit_rows", "score_rows")
    def _on_options(self, _: dict) -> None:
        if self._ready:
            self._update_safely({"options"})

    @property
    def fit_task(self) -> SurrogateFits:
        return SurrogateFits(self.label, self.target, self.max_depth, self.fit_rows, self.score_rows)

    def row_task(self, values: tuple[float, ...], fit: SurrogateFits) -> SurrogateRow:
        return SurrogateRow(values, fit)

    def show_fit(self, models: dict) -> None:
        self._models = models
        self.set_trait("fitted", fitted_payload(models, self.target))

    def show_row(self, predictions: dict, values: np.ndarray) -> None:
        self.set_trait("row_predictions", {**predictions, "for_values": encode_array(values)})

    def describe_failure(self, name: str) -> str:
        return "surrogate fit failed" if name == "fit" else "could not evaluate this row"

    @property
    def models(self) -> dict[str, Any]:
        """``{"gam", "linear", "tree"}`` fitted for the current class and options (waits for them)."""
        self.wait()
        return dict(self._models)

    def figure(self) -> Figure:
        """Fidelity of the three surrogates, as a matplotlib Figure."""
        self.ready_to_draw()
        models = self.models
        fig = new_figure(5, 2.5)
        ax = fig.add_subplot()
        r2 = [models[k].fidelity_r2 for k in KINDS]
        ax.bar(KINDS, r2, color=["#ee6677" if k == self.chosen else "#4477aa" for k in KINDS])
        ax.set_ylabel("R² against the model (held-out rows)")
        ax.set_ylim(min(0.0, *r2), 1.0)
        return fig
