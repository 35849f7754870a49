"""GamExplainer: a GAM fitted to the model's outputs, as a global surrogate with partial dependences."""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets
from matplotlib.figure import Figure

from ._tabular import FittedView
from ._view import static_file
from .core import encode_array
from .core.figures import new_figure
from .core.figures_explain import draw_gam
from .core.gam_surrogate import TARGETS, GamOptions, GamSurrogate
from .core.sampling import random_rows
from .core.tasks import GamFit, GamRow, GamTerms

RUG_ROWS = 400


def surrogate_payload(sur: GamSurrogate, X: np.ndarray, names: tuple[str, ...], asked_splines: int) -> dict:
    """Curves (most important first) as binary matrices; the rug is the data, subsampled."""
    order = np.array([c.feature for c in sur.curves], dtype=np.int32)
    stack = lambda attr: encode_array(np.stack([getattr(c, attr) for c in sur.curves]))  # noqa: E731
    rows = random_rows(len(X), RUG_ROWS, 0)
    return {
        "order": encode_array(order),
        "grid": stack("grid"),
        "effect": stack("effect"),
        "lower": stack("lower"),
        "upper": stack("upper"),
        "importance": encode_array(np.array([c.importance for c in sur.curves])),
        "rug": encode_array(X[rows][:, order].T.astype(np.float32)),
        "intercept": sur.intercept,
        "fidelity_r2": sur.fidelity_r2,
        "fidelity_accuracy": sur.fidelity_accuracy,
        "fitted_rows": sur.fitted_rows,
        "scored_rows": sur.scored_rows,
        "held_out": sur.split.held_out,
        "split": sur.split.describe(),
        "n_splines": sur.n_splines,
        "asked_splines": asked_splines,
        "target": sur.target,
        "constant_features": [names[i] for i in range(len(names)) if i not in set(sur.candidates or sur.features)],
        "screened": f"a GAM of the {len(sur.features)} of {len(sur.candidates)} features whose binned means move most with the output"
                    if sur.screened else "",
    }


class GamExplainer(FittedView):
    """A GAM (pyGAM ``LinearGAM``) fitted to the model's outputs over ``X`` — the chosen class's
    probability or log-odds, or the regression output — as a global surrogate, on a sample stratified
    by the model's class when X is big (``fit_rows``, ``score_rows``; the view says how many rows were
    fitted and scored). Shows each feature's
    partial dependence with its 95 % interval (small multiples, most important first; click one to
    enlarge), a rug of the data, the current row on every curve and its per-feature contributions.
    The surrogate's fidelity on held-out rows is always shown. One fit per model version, class and
    options, shared with :class:`Surrogates` on the same inspector; fits run in the background.

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_diabetes
        data = load_diabetes()
        net = torch.nn.Sequential(torch.nn.Linear(10, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
        gam = nw.GamExplainer(net, data.data, feature_names=data.feature_names)
        gam.surrogate.fidelity_r2     # waits for the fit
    """

    _esm = static_file("gam_explainer.js")
    _css = static_file("gam_explainer.css")

    n_splines = traitlets.Int(20).tag(sync=True)
    lam = traitlets.Float(0.6).tag(sync=True)
    gridsearch = traitlets.Bool(False).tag(sync=True)
    target = traitlets.Enum(TARGETS, default_value="probability").tag(sync=True)
    fit_rows = traitlets.Int(0, help="rows the GAM is fitted on when X has more (0: as many as fit in memory)").tag(sync=True)
    score_rows = traitlets.Int(10_000, help="held-out rows its fidelity is measured on when X has more").tag(sync=True)
    selected_feature = traitlets.Int(-1, help="feature index drawn large; -1: none").tag(sync=True)
    curves = traitlets.Dict(read_only=True).tag(sync=True)
    row_terms = traitlets.Dict(read_only=True).tag(sync=True)

    def __init__(self, source: Any, X: Any = None, **kwargs: Any) -> None:
        self._surrogate: GamSurrogate | None = None
        super().__init__(source, X, **kwargs)

    @traitlets.validate("n_splines")
    def _check_splines(self, proposal: dict) -> int:
        if proposal["value"] < 4:
            raise traitlets.TraitError(f"n_splines must be at least 4, got {proposal['value']}")
        return proposal["value"]

    @traitlets.validate("lam")
    def _check_lam(self, proposal: dict) -> float:
        if not proposal["value"] > 0:
            raise traitlets.TraitError(f"lam must be positive, got {proposal['value']}")
        return proposal["value"]

    @traitlets.observe("n_splines", "lam", "gridsearch", "target", "fit_rows", "score_rows")
    def _on_options(self, _: dict) -> None:
        if self._ready:
            self._update_safely({"options"})

    @property
    def options(self) -> GamOptions:
        return GamOptions(n_splines=self.n_splines, lam=self.lam, gridsearch=self.gridsearch, target=self.target,
                          fit_rows=self.fit_rows, score_rows=self.score_rows)

    @property
    def fit_task(self) -> GamFit:
        return GamFit(self.label, self.options)

    def row_task(self, values: tuple[float, ...], fit: GamFit) -> GamTerms:
        return GamTerms(values, fit.label, fit.options)

    def show_fit(self, surrogate: GamSurrogate) -> None:
        self._surrogate = surrogate
        self.set_trait("curves", surrogate_payload(surrogate, self.data.X, self.data.feature_names, self.n_splines))

    def show_row(self, terms: GamRow, values: np.ndarray) -> None:
        self.set_trait("row_terms", {
            "contributions": encode_array(terms.contributions),
            "surrogate_prediction": terms.surrogate_prediction,
            "model_prediction": terms.model_prediction,
            "for_values": encode_array(values),
        })

    def describe_failure(self, name: str) -> str:
        return "GAM fit failed" if name == "fit" else "could not evaluate this row"

    @property
    def surrogate(self) -> GamSurrogate | None:
        """The fitted GAM for the current class and options (waits for it)."""
        self.wait()
        return self._surrogate

    def figure(self) -> Figure:
        """The partial-dependence small multiples as a matplotlib Figure."""
        self.ready_to_draw()
        surrogate = self.surrogate
        n = len(surrogate.curves) if surrogate else 1
        cols = min(4, n)
        rows = -(-n // cols)
        fig = new_figure(3 * cols, 2.3 * rows)
        if surrogate is not None:
            draw_gam(fig, surrogate, self.data, self.current)
        return fig
