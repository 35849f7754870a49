"""ModelExplorer: LayerBars and WeightHeatmap side by side, linked by one layer selection."""

from __future__ import annotations

from typing import Any

import ipywidgets
import traitlets
from matplotlib.figure import Figure
from torch import nn

from ._widget import reject_unknown_kwargs
from .core import ensure_module
from .core.figures import draw_heatmap, draw_layer_bars, new_figure
from .layer_bars import LayerBars
from .weight_heatmap import WeightHeatmap


class ModelExplorer(ipywidgets.HBox):
    """Per-layer bars and the selected layer's weight heatmap; picking a bar redraws the heatmap.

    ``selected_layer`` is the one selection both views follow. The views refresh by themselves after
    a notebook cell changed the model (e.g. training steps); :meth:`refresh` does it on demand.

    Example::

        import torch, nnwidgets as nw
        net = torch.nn.Sequential(torch.nn.Linear(30, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
        explorer = nw.ModelExplorer(net)
        explorer                          # click a bar: the heatmap follows
        explorer.selected_layer = "2"     # or select from Python
    """

    selected_layer = traitlets.Unicode("")

    def __init__(self, model: nn.Module, *, layer: str | None = None, **bar_options: Any) -> None:
        ensure_module(model)
        self.bars = LayerBars(model, **bar_options)
        if layer is not None:
            self.bars.selected_layer = layer
        self.heatmap = WeightHeatmap(model, layer=self.bars.selected_layer)
        super().__init__(children=[self.bars, self.heatmap])
        self.add_class("nnw-explorer")
        self.selected_layer = self.bars.selected_layer
        self._links = [
            traitlets.link((self, "selected_layer"), (self.bars, "selected_layer")),
            traitlets.link((self.bars, "selected_layer"), (self.heatmap, "layer")),
        ]

    @property
    def model(self) -> nn.Module:
        return self.bars.model

    def refresh(self) -> None:
        """Redraw both views from the model as it is now."""
        self.bars.refresh()
        self.heatmap.refresh()

    def figure(self) -> Figure:
        """Bars and heatmap side by side as one matplotlib Figure."""
        fig = new_figure(11, max(4.0, 0.6 + 0.22 * len(self.bars.rows)))
        bars_ax, heat_ax = fig.subplots(1, 2, width_ratios=[1, 1.3])
        draw_layer_bars(bars_ax, self.bars.rows, self.bars.metric, self.bars.log_scale, self.selected_layer)
        if self.heatmap._heat is None:
            heat_ax.text(0.5, 0.5, self.heatmap.message, ha="center", va="center", wrap=True)
            heat_ax.set_axis_off()
        else:
            draw_heatmap(heat_ax, self.heatmap._heat, f"{self.selected_layer}.{self.heatmap.parameter}")
        return fig
