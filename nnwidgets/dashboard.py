"""Dashboard: every view of one inspector in tabs under the input editor."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ._layout import Layout, column, first_tabs, row, section, tabs, widget
from ._view import INSPECTOR_ARGS, inspector_for
from .activation_analysis import ActivationAnalysis
from .activations import Activations
from .attributions import Attributions
from .core.figures import BAR_COLOUR, draw_layer_bars, new_figure
from .core.figures_explain import NEGATIVE, POSITIVE, draw_prediction
from .gam_explainer import GamExplainer
from .importance import Importance
from .input_editor import InputEditor
from .layer_bars import LayerBars
from .lime_explainer import LimeExplainer
from .surrogates import Surrogates
from .trainer import Trainer
from .training_monitor import TrainingMonitor
from .weight_distributions import WeightDistributions
from .weight_heatmap import WeightHeatmap
from .weight_tiles import WeightTiles


class Dashboard(Layout):
    """The input editor (collapsible) above tabs — Model, Explain, Inside, Attributions,
    Importance, Surrogates, Weights — so it fits a laptop screen. Every view is a view of one
    inspector: its ``selected_layer`` (the layer bars) and ``row``/``values``/``target_class`` (the
    editor) drive them all, and results are computed once and shared (one pass over the data, one
    GAM fit for the GAM and surrogate views). With ``input_shape=(h, w)`` the Inside tab also shows
    the first layer's weights as image tiles. With ``trainer=nw.Trainer(s, ...)`` its controls sit on
    top and a Training tab with a :class:`TrainingMonitor`: play, and every view follows the model as it
    learns (a playground on your own model and data). For image data (``Inspector(cnn, images)``) the
    layout is the images': the :class:`ImageExplainer` (gallery, picture, brush, prediction, overlays) on
    top, then tabs Model, Feature maps, Activations (channel maps), Unit's input and Weights.

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_digits
        digits = load_digits()
        net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
        s = nw.Inspector(net, digits.data / 16, y=digits.target, class_names=[str(d) for d in range(10)])
        dash = nw.Dashboard(s, input_shape=(8, 8))
        s.row = 3
        s.selected_layer = "2"
        trainer = nw.Trainer(s, lr=1e-2)
        nw.Dashboard(s, trainer=trainer)   # ▶ in the page, or trainer.step(100): every view follows
    """

    def __init__(self, source: Any, X: Any = None, *, input_shape: tuple[int, int] | None = None,
                 trainer: Trainer | None = None, **kwargs: Any) -> None:
        unknown = sorted(set(kwargs) - set(INSPECTOR_ARGS))
        if unknown:
            raise TypeError(f"Dashboard() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
                            f"accepted: input_shape, trainer, {', '.join(INSPECTOR_ARGS)}")
        s = inspector_for("Dashboard", source, X, kwargs)
        s.require_data("Dashboard")
        if trainer is not None and not isinstance(trainer, Trainer):
            raise TypeError(f"trainer must be an nw.Trainer, got {type(trainer).__name__}")
        if trainer is not None and trainer.model is not s.model:
            raise ValueError("trainer trains another model than the dashboard shows: build it as nw.Trainer(inspector, ...)")
        self.trainer = trainer
        self.monitor = TrainingMonitor(s) if trainer is not None else None
        if s.image is not None:
            if input_shape is not None:
                raise TypeError("input_shape is for tables whose rows are pictures; these images know their shape")
            self._build_for_images(s, trainer)
            return
        self.editor = InputEditor(s)
        self.bars = LayerBars(s)
        self.heatmap = WeightHeatmap(s)
        self.lime = LimeExplainer(s)
        self.gam = GamExplainer(s)
        self.activations = Activations(s)
        self.analysis = ActivationAnalysis(s)
        self.tiles = WeightTiles(s, input_shape=input_shape) if input_shape is not None else None
        self.attributions = Attributions(s)
        self.importance = Importance(s)
        self.surrogates = Surrogates(s)
        self.distributions = WeightDistributions(s)
        views = [self.editor, self.bars, self.heatmap, self.lime, self.gam, self.activations, self.analysis,
                 self.attributions, self.importance, self.surrogates, self.distributions] + ([self.tiles] if self.tiles else [])
        views += [trainer, self.monitor] if trainer is not None else []
        at = {id(v): i for i, v in enumerate(views)}
        w = lambda view: widget(at[id(view)])  # noqa: E731
        inside = [w(self.activations), w(self.analysis)] + ([w(self.tiles)] if self.tiles else [])
        top = [section("Training", w(trainer))] if trainer is not None else []
        arrangement = column(
            *top,
            section("Input row and prediction", w(self.editor)),
            tabs(
                Model=row(w(self.bars), w(self.heatmap)),
                Explain=row(w(self.lime), w(self.gam)),
                Inside=column(*inside),
                Attributions=w(self.attributions),
                Importance=w(self.importance),
                Surrogates=w(self.surrogates),
                Weights=w(self.distributions),
                **({"Training": w(self.monitor)} if trainer is not None else {}),
            ),
        )
        super().__init__(s, views, arrangement, "nnw-dashboard")

    def _build_for_images(self, s: Any, trainer: Trainer | None) -> None:
        """The image layout: the explainer (gallery, picture, brush, prediction, overlays) on top, then
        tabs for the model, what the conv layers see, a unit's preferred input and the weights."""
        from .feature_maps import FeatureMaps
        from .image_explainer import ImageExplainer
        from .unit_visualizer import UnitVisualizer

        self.images = ImageExplainer(s)
        self.bars = LayerBars(s)
        self.heatmap = WeightHeatmap(s)
        self.feature_maps = FeatureMaps(s)
        self.activations = Activations(s)
        self.units = UnitVisualizer(s)
        self.distributions = WeightDistributions(s)
        views = [self.images, self.bars, self.heatmap, self.feature_maps, self.activations, self.units, self.distributions]
        views += [trainer, self.monitor] if trainer is not None else []
        at = {id(v): i for i, v in enumerate(views)}
        w = lambda view: widget(at[id(view)])  # noqa: E731
        top = [section("Training", w(trainer))] if trainer is not None else []
        arrangement = column(
            *top,
            section("Image, prediction and explanations", w(self.images)),
            tabs(
                Model=row(w(self.bars), w(self.heatmap)),
                **{"Feature maps": w(self.feature_maps)},
                Activations=w(self.activations),
                **{"Unit's input": w(self.units)},
                Weights=w(self.distributions),
                **({"Training": w(self.monitor)} if trainer is not None else {}),
            ),
        )
        super().__init__(s, views, arrangement, "nnw-dashboard")

    def close(self) -> None:
        """Close every view the dashboard made; a trainer it was given goes on (it is the user's)."""
        if getattr(self, "trainer", None) is not None:
            self.views = [v for v in self.views if v is not self.trainer]
        super().close()

    @property
    def tab_titles(self) -> list[str]:
        return list(first_tabs(self.arrangement)["titles"])

    def figure(self) -> Figure:
        """Layer bars, the prediction, integrated gradients and the surrogates' fidelity on one Figure
        (for images: the explainer's picture, overlay and prediction beside the layer bars)."""
        if self.inspector is not None and self.inspector.image is not None:
            return self._image_figure()
        self.wait()
        for view in (self.editor, self.attributions, self.surrogates):
            view.ready_to_draw()
        fig = new_figure(13, 7)
        bars_ax, pred_ax, attr_ax, sur_ax = fig.subplots(2, 2).ravel()
        draw_layer_bars(bars_ax, self.bars.rows, self.bars.metric, self.bars.log_scale, self.selected_layer)
        draw_prediction(pred_ax, self.editor.prediction_values, self.editor.class_names, self.editor.mode, self.target_class)
        ig = self.attributions.result.values[2]
        order = np.argsort(-np.abs(ig))[:10]
        attr_ax.barh(range(len(order)), ig[order], color=[POSITIVE if v > 0 else NEGATIVE for v in ig[order]])
        attr_ax.set_yticks(range(len(order)), [self.inspector.feature_names[i] for i in order], fontsize=8)
        attr_ax.invert_yaxis()
        attr_ax.set_title(f"integrated gradients, row {self.row}", fontsize=9)
        models = self.surrogates.models
        kinds = list(models)
        sur_ax.bar(kinds, [models[k].fidelity_r2 for k in kinds], color=BAR_COLOUR)
        sur_ax.set_title("surrogate fidelity (R², held-out rows)", fontsize=9)
        return fig

    def _image_figure(self) -> Figure:
        self.wait()
        return self.images.figure()
