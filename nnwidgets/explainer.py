"""Explainer: InputEditor, LIME and the GAM surrogate in one layout, following one row and values."""

from __future__ import annotations

from typing import Any

import ipywidgets
import traitlets
from matplotlib.figure import Figure

from .core.figures import new_figure
from .core.figures_explain import draw_lime, draw_prediction
from .gam_explainer import GamExplainer
from .input_editor import InputEditor
from .lime_explainer import LimeExplainer

SHARED = ("row", "values", "target_class")
LIME_OPTIONS = ("num_features", "num_samples", "random_state", "discretize_continuous")
GAM_OPTIONS = ("n_splines", "lam", "gridsearch", "target")


class Explainer(ipywidgets.VBox):
    """The editor on top; LIME's local explanation and the GAM's global one side by side below,
    so the current row's LIME weights and GAM contributions can be compared. ``row``, ``values``
    and ``target_class`` are shared by all three.

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_breast_cancer
        data = load_breast_cancer()
        net = torch.nn.Sequential(torch.nn.Linear(30, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
        mean, std = data.data.mean(0), data.data.std(0)
        ex = nw.Explainer(net, data.data, feature_names=data.feature_names, class_names=data.target_names,
                          preprocess=lambda v: (v - mean) / std)
        ex.row = 17
    """

    row = traitlets.Int(0)
    values = traitlets.List(traitlets.Float())
    target_class = traitlets.Int(0)

    def __init__(self, model: Any, X: Any, **kwargs: Any) -> None:
        common = {k: kwargs.pop(k) for k in ("feature_names", "class_names", "mode", "preprocess", "row") if k in kwargs}
        lime_options = {k: kwargs.pop(k) for k in LIME_OPTIONS if k in kwargs}
        gam_options = {k: kwargs.pop(k) for k in GAM_OPTIONS if k in kwargs}
        if kwargs:
            raise TypeError(
                f"Explainer() got unexpected keyword argument(s) {', '.join(map(repr, sorted(kwargs)))}; accepted: "
                f"feature_names, class_names, mode, preprocess, row, {', '.join(LIME_OPTIONS + GAM_OPTIONS)}"
            )
        self.editor = InputEditor(model, X, **common)
        self.lime = LimeExplainer(model, X, **common, **lime_options)
        self.gam = GamExplainer(model, X, **common, **gam_options)
        self.editor.add_class("nnw-explainer-editor")
        panes = ipywidgets.HBox([self.lime, self.gam], layout=ipywidgets.Layout(flex_flow="row wrap"))
        super().__init__(children=[self.editor, panes])
        self.add_class("nnw-explainer")
        for name in SHARED:
            setattr(self, name, getattr(self.editor, name))
        self._links = [
            traitlets.link((self, name), (view, name)) for name in SHARED for view in (self.editor, self.lime, self.gam)
        ]

    def refresh(self) -> None:
        for view in (self.editor, self.lime, self.gam):
            view.refresh()

    def wait(self, timeout: float | None = 120) -> "Explainer":
        self.lime.wait(timeout)
        self.gam.wait(timeout)
        return self

    def figure(self) -> Figure:
        """Prediction, LIME weights and GAM contributions for the current row, side by side."""
        self.wait()
        fig = new_figure(14, 4.5)
        pred_ax, lime_ax, gam_ax = fig.subplots(1, 3, width_ratios=[0.7, 1.2, 1.2])
        draw_prediction(pred_ax, self.editor.prediction_values, self.editor.class_names, self.editor.mode, self.target_class)
        if self.lime.result is not None:
            draw_lime(lime_ax, self.lime.result, f"LIME (local fidelity R² {self.lime.result.local_fidelity:.2f})")
        if self.gam.surrogate is not None:
            contributions = self.gam.surrogate.contributions(self.editor.current)
            order = [c.feature for c in self.gam.surrogate.curves][: self.lime.num_features]
            gam_ax.barh(range(len(order)), contributions[order],
                        color=["#d6604d" if contributions[i] > 0 else "#4393c3" for i in order])
            gam_ax.set_yticks(range(len(order)), [self.editor.data.feature_names[i] for i in order], fontsize=8)
            gam_ax.invert_yaxis()
            gam_ax.set_title(f"GAM contributions (surrogate R² {self.gam.surrogate.fidelity_r2:.2f})", fontsize=9)
        return fig
