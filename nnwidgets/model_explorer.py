"""ModelExplorer: LayerBars and WeightHeatmap side by side, linked by the inspector's layer selection."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from ._layout import Layout, row, widget
from ._view import inspector_for
from .core.figures import draw_heatmap, draw_layer_bars, new_figure
from .layer_bars import LayerBars
from .weight_heatmap import WeightHeatmap

BAR_OPTIONS = ("metric", "log_scale", "depth", "auto_refresh")


class ModelExplorer(Layout):
    """Per-layer bars and the selected layer's weight heatmap; picking a bar redraws the heatmap.

    ``selected_layer`` is the inspector's one layer selection, which both views follow. The views
    refresh by themselves after a notebook cell changed the model (e.g. training steps).

    Example::

        import torch, nnwidgets as nw
        net = torch.nn.Sequential(torch.nn.Linear(30, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
        explorer = nw.ModelExplorer(net)
        explorer                          # click a bar: the heatmap follows
        explorer.selected_layer = "2"     # or select from Python
    """

    def __init__(self, source: Any, *, layer: str | None = None, **options: Any) -> None:
        inspector = inspector_for("ModelExplorer", source, None, options)
        bar_options = {k: options.pop(k) for k in BAR_OPTIONS if k in options}
        if options:
            raise TypeError(f"ModelExplorer() got unexpected keyword argument(s) {', '.join(map(repr, sorted(options)))}; "
                            f"accepted: layer, {', '.join(BAR_OPTIONS)}")
        if layer is not None:
            inspector.selected_layer = layer
        self.bars = LayerBars(inspector, **bar_options)
        self.heatmap = WeightHeatmap(inspector)
        super().__init__(inspector, [self.bars, self.heatmap], row(widget(0), widget(1)), "nnw-explorer")

    @property
    def model(self):
        return self.inspector.model

    def figure(self) -> Figure:
        """Bars and heatmap side by side as one matplotlib Figure."""
        fig = new_figure(11, max(4.0, 0.6 + 0.22 * len(self.bars.rows)))
        bars_ax, heat_ax = fig.subplots(1, 2, width_ratios=[1, 1.3])
        draw_layer_bars(bars_ax, self.bars.rows, self.bars.metric, self.bars.log_scale, self.selected_layer)
        if self.heatmap._heat is None:
            heat_ax.text(0.5, 0.5, self.heatmap.message, ha="center", va="center", wrap=True)
            heat_ax.set_axis_off()
        else:
            draw_heatmap(heat_ax, self.heatmap._heat, f"{self.heatmap.layer}.{self.heatmap.parameter}")
        return fig

