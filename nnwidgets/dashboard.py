"""Dashboard: every view in tabs, one layer selection and one row selection driving them all."""

from __future__ import annotations

from typing import Any

import ipywidgets
import numpy as np
import traitlets
from matplotlib.figure import Figure
from torch import nn

from .activation_analysis import ActivationAnalysis
from .activations import Activations
from .attributions import Attributions
from .core.figures import BAR_COLOUR, draw_layer_bars, new_figure
from .core.figures_explain import NEGATIVE, POSITIVE, draw_prediction
from .gam_explainer import GamExplainer
from .importance import Importance
from .input_editor import InputEditor
from .lime_explainer import LimeExplainer
from .model_explorer import ModelExplorer
from .surrogates import Surrogates
from .weight_distributions import WeightDistributions
from .weight_tiles import WeightTiles

ROW_TRAITS = ("row", "values", "target_class")
COMMON = ("feature_names", "class_names", "mode", "preprocess")


class Dashboard(ipywidgets.VBox):
    """The input editor (collapsible) above tabs — Model, Explain, Inside, Attributions,
    Importance, Surrogates, Weights — so it fits a laptop screen. ``selected_layer`` (from the
    layer bars) and ``row``/``values``/``target_class`` (from the editor) drive every view.

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_digits
        digits = load_digits()
        net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
        dash = nw.Dashboard(net, digits.data / 16, class_names=[str(d) for d in range(10)])
        dash.row = 3
        dash.selected_layer = "1"
    """

    row = traitlets.Int(0)
    values = traitlets.List(traitlets.Float())
    target_class = traitlets.Int(0)
    selected_layer = traitlets.Unicode("")

    def __init__(self, model: nn.Module, X: Any, *, y: Any = None, input_shape: tuple[int, int] | None = None, **kwargs: Any) -> None:
        unknown = sorted(set(kwargs) - set(COMMON) - {"row"})
        if unknown:
            raise TypeError(f"Dashboard() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
                            f"accepted: y, input_shape, row, {', '.join(COMMON)}")
        common = {k: kwargs[k] for k in COMMON if k in kwargs}
        self.editor = InputEditor(model, X, **common, **({"row": kwargs["row"]} if "row" in kwargs else {}))
        self.explorer = ModelExplorer(model)
        self.lime = LimeExplainer(model, X, **common)
        self.gam = GamExplainer(model, X, **common)
        self.activations = Activations(model, X, **common)
        self.attributions = Attributions(model, X, **common)
        self.importance = Importance(model, X, y=y, **common)
        self.surrogates = Surrogates(model, X, **common)
        self.analysis = ActivationAnalysis(model, X, feature_names=common.get("feature_names"), preprocess=common.get("preprocess"))
        self.distributions = WeightDistributions(model)
        try:
            self.tiles: WeightTiles | None = WeightTiles(model, input_shape=input_shape)
        except ValueError:
            self.tiles = None  # the inputs are not images: no tiles tab
        # Links fire in this order on the kernel thread: the quick views first (LIME only queues work).
        follow_row = [self.activations, self.attributions, self.lime, self.surrogates, self.importance, self.gam]
        follow_layer = [self.explorer, self.activations, self.analysis, self.distributions]

        inside = [self.activations, self.analysis] + ([self.tiles] if self.tiles else [])
        tabs = ipywidgets.Tab(children=[
            self.explorer,
            ipywidgets.HBox([self.lime, self.gam], layout=ipywidgets.Layout(flex_flow="row wrap")),
            ipywidgets.VBox(inside),
            self.attributions,
            self.importance,
            self.surrogates,
            self.distributions,
        ])
        for i, title in enumerate(["Model", "Explain", "Inside", "Attributions", "Importance", "Surrogates", "Weights"]):
            tabs.set_title(i, title)
        self.tabs = tabs
        editor = ipywidgets.Accordion(children=[self.editor], selected_index=0)
        editor.set_title(0, "Input row and prediction")
        super().__init__(children=[editor, tabs])
        self.add_class("nnw-dashboard")
        for name in ROW_TRAITS:
            setattr(self, name, getattr(self.editor, name))
        self.selected_layer = self.explorer.selected_layer
        self._links = [traitlets.link((self, n), (self.editor, n)) for n in ROW_TRAITS]
        self._links += [traitlets.link((self, n), (view, n)) for n in ROW_TRAITS for view in follow_row]
        self._links += [traitlets.link((self, "selected_layer"), (view, "selected_layer")) for view in follow_layer]

    def refresh(self) -> None:
        for view in self.views:
            view.refresh()

    @property
    def views(self) -> list:
        return [v for v in (self.editor, self.explorer, self.lime, self.gam, self.activations, self.attributions,
                            self.importance, self.surrogates, self.analysis, self.distributions, self.tiles) if v is not None]

    def figure(self) -> Figure:
        """Layer bars, the prediction, integrated gradients and the surrogates' fidelity on one Figure."""
        self.wait()
        fig = new_figure(13, 7)
        bars_ax, pred_ax, attr_ax, sur_ax = fig.subplots(2, 2).ravel()
        bars = self.explorer.bars
        draw_layer_bars(bars_ax, bars.rows, bars.metric, bars.log_scale, self.selected_layer)
        draw_prediction(pred_ax, self.editor.prediction_values, self.editor.class_names, self.editor.mode, self.target_class)
        ig = self.attributions.result.values[2]
        order = np.argsort(-np.abs(ig))[:10]
        attr_ax.barh(range(len(order)), ig[order], color=[POSITIVE if v > 0 else NEGATIVE for v in ig[order]])
        attr_ax.set_yticks(range(len(order)), [self.editor.data.feature_names[i] for i in order], fontsize=8)
        attr_ax.invert_yaxis()
        attr_ax.set_title(f"integrated gradients, row {self.row}", fontsize=9)
        kinds = list(self.surrogates.models)
        sur_ax.bar(kinds, [self.surrogates.models[k].fidelity_r2 for k in kinds], color=BAR_COLOUR)
        sur_ax.set_title("surrogate fidelity (R², held-out rows)", fontsize=9)
        return fig

    def wait(self, timeout: float | None = 120) -> "Dashboard":
        for view in (self.lime, self.gam, self.importance, self.surrogates):
            view.wait(timeout)
        return self
