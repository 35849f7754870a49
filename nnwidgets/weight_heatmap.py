"""WeightHeatmap: the selected layer's weight as a zoomable heatmap, diverging around zero."""

from __future__ import annotations

import contextlib
import math
from typing import Any

import traitlets
from matplotlib.figure import Figure
import torch
from torch import nn

from ._view import View, static_file
from .core import DEFAULT_MAX_CELLS, Heatmap, diverging_lut, encode_array, main_weight_name, resolve_layer
from .core.figures import draw_heatmap, new_figure
from .core.model_version import is_lazy
from .core.tasks import WeightPicture


def _finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


INLINE_CELLS = 8_000_000  # weights read on the caller's thread up to this size (tens of milliseconds)


def cells_read(tensor: torch.Tensor, region: list[int]) -> int:
    """How many weights a picture of ``region`` (``[]``: all) of ``tensor`` reads, at most."""
    if is_lazy(tensor):
        return 0  # nothing to read: the picture says why at once
    if len(region) != 4:
        return tensor.numel()
    return min(tensor.numel(), max(0, region[1] - region[0]) * max(0, region[3] - region[2]))


def heatmap_payload(heat: Heatmap, layer: str, parameter: str, dtype: str) -> dict:
    """The heatmap for the front end; the cell values travel as one binary buffer."""
    return {
        "values": encode_array(heat.values),
        "region": list(heat.region),
        "shape": list(heat.shape),
        "block_rows": heat.block_rows,
        "block_cols": heat.block_cols,
        "min": _finite_or_none(heat.min),
        "max": _finite_or_none(heat.max),
        "row_label": heat.row_label,
        "col_label": heat.col_label,
        "layer": layer,
        "parameter": parameter,
        "dtype": dtype,
    }


class WeightHeatmap(View):
    """Heatmap of one parameter of one layer: hover for exact values, drag a box to zoom, double-click
    to reset. Large matrices are pooled to at most ``max_cells`` cells, each keeping its block's
    signed extreme; zoomed far enough in, cells are the exact weights. Without ``layer=`` it shows
    the inspector's ``selected_layer`` and follows it.

    Example::

        import torch, nnwidgets as nw
        net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
        heat = nw.WeightHeatmap(net, layer="0")
        heat                                  # drag a box over the picture to zoom in
        heat.region = [0, 8, 0, 8]            # or zoom from Python: rows 0-7, columns 0-7
        heat.parameter = "bias"
    """

    _esm = static_file("weight_heatmap.js")
    _css = static_file("weight_heatmap.css")

    layer = traitlets.Unicode("").tag(sync=True)
    parameter = traitlets.Unicode("").tag(sync=True)
    parameters = traitlets.List(traitlets.Unicode()).tag(sync=True)
    region = traitlets.List(traitlets.Int(), help="[row0, row1, col0, col1], half-open; [] = all").tag(sync=True)
    max_cells = traitlets.Int(DEFAULT_MAX_CELLS).tag(sync=True)
    heatmap = traitlets.Dict().tag(sync=True)
    colormap = traitlets.Dict().tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)

    def __init__(self, source: Any, layer: str | None = None, **kwargs: Any) -> None:
        self._quiet = True
        self._heat: Heatmap | None = None
        self.follows_selection = layer is None
        parameter, region = kwargs.pop("parameter", None), kwargs.pop("region", None)
        super().__init__(source, **kwargs)
        self.colormap = encode_array(diverging_lut())
        self.layer = self.inspector.selected_layer if layer is None else layer
        self._quiet = False
        self._choose_parameter(parameter)
        if region is not None:
            with self._batch():
                self.region = region
        self._redraw_now()

    @property
    def model(self) -> nn.Module:
        return self.inspector.model

    def update(self, changes: set[str]) -> None:
        if self._quiet:
            return
        if "selected_layer" in changes and self.follows_selection and self.layer != self.inspector.selected_layer:
            self.layer = self.inspector.selected_layer  # the layer observer redraws
        elif "model" in changes:
            self._redraw_now()

    @contextlib.contextmanager
    def _batch(self):
        quiet, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = quiet

    @traitlets.validate("layer")
    def _check_layer(self, proposal: dict) -> str:
        resolve_layer(self.model, proposal["value"])
        return proposal["value"]

    @traitlets.validate("region")
    def _check_region(self, proposal: dict) -> list[int]:
        region = proposal["value"]
        if region and (len(region) != 4 or region[0] >= region[1] or region[2] >= region[3]):
            raise traitlets.TraitError(f"region must be [] or [row0, row1, col0, col1] with row0 < row1 and col0 < col1, got {region}")
        return region

    @traitlets.validate("max_cells")
    def _check_max_cells(self, proposal: dict) -> int:
        if proposal["value"] < 1:
            raise traitlets.TraitError(f"max_cells must be at least 1, got {proposal['value']}")
        return proposal["value"]

    @traitlets.observe("layer")
    def _on_layer(self, _: dict) -> None:
        if not self._quiet:
            self._choose_parameter(None)
            self._redraw_now()

    @traitlets.observe("parameter", "region", "max_cells")
    def _on_view_options(self, change: dict) -> None:
        if change["name"] == "parameter" and not self._quiet:
            with self._batch():
                self.region = []
        if not self._quiet:
            self._redraw_now()

    def _choose_parameter(self, wanted: str | None, module: nn.Module | None = None) -> None:
        module = module if module is not None else resolve_layer(self.model, self.layer)
        names = [n for n, _ in module.named_parameters()]
        if wanted is not None and wanted not in names:
            raise ValueError(f"layer {self.layer!r} has no parameter {wanted!r}; it has {names}")
        with self._batch():
            self.parameters = names
            self.parameter = wanted or main_weight_name(module) or ""
            self.region = []

    def _redraw_now(self) -> None:
        with self.hold_sync():
            self._redraw()

    def _redraw(self) -> None:
        try:
            module = resolve_layer(self.model, self.layer)
        except ValueError as error:  # the layer left the live model since it was chosen
            self._show_message(str(error))
            return
        names = [n for n, _ in module.named_parameters()]
        if self.parameter not in self.parameters or names != list(self.parameters):
            self._choose_parameter(None, module)
        if not self.parameter:
            self._show_message(self._no_weights_message(module))
            return
        tensor = module.get_parameter(self.parameter)
        task = WeightPicture(self.layer, self.parameter, tuple(self.region), self.max_cells)
        if cells_read(tensor, self.region) > INLINE_CELLS:  # a huge weight: pooled on a worker, the old picture stays meanwhile
            self.request("heatmap", task, lambda heat: self._show(heat, tensor))
            return
        self.withdraw("heatmap")  # a zoom in while the whole is pooled: the zoom wins
        self._show(task.run(self.inspector, self.inspector.version, None), tensor)

    def _show(self, heat: Heatmap | str, tensor: torch.Tensor) -> None:
        if isinstance(heat, str):
            self._show_message(heat)
            return
        self._heat = heat
        with self.hold_sync():
            self.message = ""
            self.heatmap = heatmap_payload(heat, self.layer, self.parameter, str(tensor.dtype).removeprefix("torch."))

    def describe_failure(self, name: str) -> str:
        return "the heatmap failed"

    def _show_message(self, text: str) -> None:
        self._heat = None
        self.heatmap = {}
        self.message = text

    def _no_weights_message(self, module: nn.Module) -> str:
        label = self.layer or "the model"
        buffers = [n for n, _ in module.named_buffers()]
        note = f" (it holds buffers: {', '.join(buffers[:4])})" if buffers else ""
        return f"{label} ({type(module).__name__}) has no weights{note}"

    def figure(self) -> Figure:
        """The same heatmap (same region, pooling and colour map) as a matplotlib Figure."""
        self.wait()
        fig = new_figure(6, 4.5)
        ax = fig.add_subplot()
        if self._heat is None:
            ax.text(0.5, 0.5, self.message, ha="center", va="center", wrap=True)
            ax.set_axis_off()
        else:
            draw_heatmap(ax, self._heat, f"{self.layer or type(self.model).__name__}.{self.parameter}")
        return fig
