"""Explainer: InputEditor, LIME and the GAM surrogate in one layout, views of one inspector."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from ._layout import Layout, column, row, widget
from ._view import INSPECTOR_ARGS, inspector_for
from .core.figures import new_figure
from .core.figures_explain import NEGATIVE, POSITIVE, draw_lime, draw_prediction
from .gam_explainer import GamExplainer
from .input_editor import InputEditor
from .lime_explainer import LimeExplainer

LIME_OPTIONS = ("num_features", "num_samples", "random_state", "discretize_continuous")
GAM_OPTIONS = ("n_splines", "lam", "gridsearch", "target")


class Explainer(Layout):
    """The editor on top; LIME's local explanation and the GAM's global one side by side below,
    so the current row's LIME weights and GAM contributions can be compared. All three are views
    of one inspector: ``row``, ``values`` and ``target_class`` are its.

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_breast_cancer
        data = load_breast_cancer()
        net = torch.nn.Sequential(torch.nn.Linear(30, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
        mean, std = data.data.mean(0), data.data.std(0)
        s = nw.Inspector(net, data.data, feature_names=data.feature_names, class_names=data.target_names,
                         preprocess=lambda v: (v - mean) / std)
        ex = nw.Explainer(s)
        s.row = 17
    """

    def __init__(self, source: Any, X: Any = None, **kwargs: Any) -> None:
        inspector = inspector_for("Explainer", source, X, kwargs)
        lime_options = {k: kwargs.pop(k) for k in LIME_OPTIONS if k in kwargs}
        gam_options = {k: kwargs.pop(k) for k in GAM_OPTIONS if k in kwargs}
        if kwargs:
            raise TypeError(
                f"Explainer() got unexpected keyword argument(s) {', '.join(map(repr, sorted(kwargs)))}; accepted: "
                f"{', '.join(INSPECTOR_ARGS + LIME_OPTIONS + GAM_OPTIONS)}"
            )
        self.editor = InputEditor(inspector)
        self.lime = LimeExplainer(inspector, **lime_options)
        self.gam = GamExplainer(inspector, **gam_options)
        arrangement = column(widget(0), row(widget(1), widget(2)))
        super().__init__(inspector, [self.editor, self.lime, self.gam], arrangement, "nnw-explainer")

    def figure(self) -> Figure:
        """Prediction, LIME weights and GAM contributions for the current row, side by side."""
        self.wait()
        self.editor.ready_to_draw()
        fig = new_figure(14, 4.5)
        pred_ax, lime_ax, gam_ax = fig.subplots(1, 3, width_ratios=[0.7, 1.2, 1.2])
        draw_prediction(pred_ax, self.editor.prediction_values, self.editor.class_names, self.editor.mode, self.target_class)
        if self.lime.result is not None:
            draw_lime(lime_ax, self.lime.result, f"LIME (local fidelity R² {self.lime.result.local_fidelity:.2f})")
        surrogate = self.gam.surrogate
        if surrogate is not None:
            contributions = surrogate.contributions(self.inspector.values)
            order = [c.feature for c in surrogate.curves][: self.lime.num_features]
            gam_ax.barh(range(len(order)), contributions[order],
                        color=[POSITIVE if contributions[i] > 0 else NEGATIVE for i in order])
            gam_ax.set_yticks(range(len(order)), [self.inspector.feature_names[i] for i in order], fontsize=8)
            gam_ax.invert_yaxis()
            gam_ax.set_title(f"GAM contributions (surrogate R² {surrogate.fidelity_r2:.2f})", fontsize=9)
        return fig
