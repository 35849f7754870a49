"""GamExplainer: a GAM fitted to the model's outputs, as a global surrogate with partial dependences."""

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
from .core.figures_explain import draw_gam
from .core.gam_surrogate import TARGETS, GamOptions, GamSurrogate, fit_gam, target_for_rows

RUG_ROWS = 400


def surrogate_payload(sur: GamSurrogate, X: np.ndarray, names: tuple[str, ...]) -> dict:
    """Curves (most important first) as binary matrices; the rug is the data, subsampled."""
    order = np.array([c.feature for c in sur.curves], dtype=np.int32)
    stack = lambda attr: encode_array(np.stack([getattr(c, attr) for c in sur.curves]))  # noqa: E731
    rows = np.random.default_rng(0).choice(len(X), size=min(RUG_ROWS, len(X)), replace=False)
    return {
        "order": encode_array(order),
        "grid": stack("grid"),
        "effect": stack("effect"),
        "lower": stack("lower"),
        "upper": stack("upper"),
        "importance": encode_array(np.array([c.importance for c in sur.curves])),
        "rug": encode_array(X[np.sort(rows)][:, order].T.astype(np.float32)),
        "intercept": sur.intercept,
        "fidelity_r2": sur.fidelity_r2,
        "fidelity_accuracy": sur.fidelity_accuracy,
        "target": sur.target,
        "constant_features": [names[i] for i in range(len(names)) if i not in set(sur.features)],
    }


class GamExplainer(TabularWidget):
    """A GAM (pyGAM ``LinearGAM``) fitted to the model's outputs over ``X`` — the chosen class's
    probability or logit, or the regression output — as a global surrogate. Shows each feature's
    partial dependence with its 95 % interval (small multiples, most important first; click one to
    enlarge), a rug of the data, the current row on every curve and its per-feature contributions.
    The surrogate's fidelity on held-out rows is always shown. Fits run off the main thread and
    are redone when the model, the class or the options change.

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_diabetes
        data = load_diabetes()
        net = torch.nn.Sequential(torch.nn.Linear(10, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
        gam = nw.GamExplainer(net, data.data, feature_names=data.feature_names)
        gam.wait().surrogate.fidelity_r2
    """

    _esm = static_file("gam_explainer.js")
    _css = static_file("gam_explainer.css")

    n_splines = traitlets.Int(20).tag(sync=True)
    lam = traitlets.Float(0.6).tag(sync=True)
    gridsearch = traitlets.Bool(False).tag(sync=True)
    target = traitlets.Enum(TARGETS, default_value="probability").tag(sync=True)
    selected_feature = traitlets.Int(-1, help="feature index drawn large; -1: none").tag(sync=True)
    curves = traitlets.Dict(read_only=True).tag(sync=True)
    row_terms = traitlets.Dict(read_only=True).tag(sync=True)
    status = traitlets.Unicode("", read_only=True).tag(sync=True)

    def __init__(self, model: Any, X: Any, **kwargs: Any) -> None:
        self.surrogate: GamSurrogate | None = None
        self._fit_key: tuple | None = None
        self._runner = LatestWins(self._set_busy)
        super().__init__(model, X, **kwargs)

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

    @traitlets.observe("n_splines", "lam", "gridsearch", "target")
    def _on_options(self, _: dict) -> None:
        if self._ready:
            self.update()

    @property
    def options(self) -> GamOptions:
        return GamOptions(n_splines=self.n_splines, lam=self.lam, gridsearch=self.gridsearch, target=self.target)

    def update(self) -> None:
        key = (self.target_class, self.options, model_signature(self.model))
        if key == self._fit_key and self.surrogate is not None:
            self._show_row()
            return
        self._fit_key = key
        label, options = self.target_class, self.options
        rows, cols = self.data.X.shape
        self.set_trait("status", f"fitting a GAM to {rows} rows × {cols} features" + (" (grid search)" if options.gridsearch else ""))

        def deliver(surrogate: GamSurrogate) -> None:
            self.surrogate = surrogate
            self.set_trait("status", "")
            self._set_error("")
            self.set_trait("curves", surrogate_payload(surrogate, self.data.X, self.data.feature_names))
            self._show_row()

        def fail(error: Exception) -> None:
            self._fit_key = None
            self.set_trait("status", "")
            self._set_error(f"GAM fit failed: {error}")

        self._runner.submit(lambda: fit_gam(self.data, self.predict, label, options), deliver, fail)

    def _show_row(self) -> None:
        values = self.current
        try:
            contributions = self.surrogate.contributions(values)
            model_value = float(target_for_rows(self.data, self.predict, values, self.target_class, self.target)[0])
        except Exception as error:
            self._set_error(f"could not evaluate this row: {error}")
            return
        self._set_error("")
        self.set_trait("row_terms", {
            "contributions": encode_array(contributions),
            "surrogate_prediction": float(self.surrogate.intercept + contributions.sum()),
            "model_prediction": model_value,
            "for_values": encode_array(values),
        })

    def refresh(self) -> None:
        self._fit_key = None
        self.update()

    def wait(self, timeout: float | None = 120) -> "GamExplainer":
        """Block until the fit for the current options is done (for scripts and tests)."""
        self._runner.wait(timeout)
        return self

    def figure(self) -> Figure:
        """The partial-dependence small multiples as a matplotlib Figure."""
        self.wait()
        n = len(self.surrogate.curves) if self.surrogate else 1
        cols = min(4, n)
        rows = -(-n // cols)
        fig = new_figure(3 * cols, 2.3 * rows)
        if self.surrogate is not None:
            draw_gam(fig, self.surrogate, self.data, self.current)
        return fig
