"""LayerBars: one bar per layer of a live model; click a bar (or use the arrow keys) to select it."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import traitlets
from matplotlib.figure import Figure

from ._view import View, static_file
from .core import auto_depth, encode_array, layer_table, max_depth
from .core.figures import draw_layer_bars, new_figure
from .core.layer_table import Layer

METRICS = ("parameters", "output units")


def table_payload(rows: list[Layer]) -> dict:
    """The layer table for the front end: text as JSON, every numeric column as a binary buffer."""

    def sizes(attr: str) -> dict:
        return encode_array(np.array([np.nan if getattr(r, attr) is None else getattr(r, attr) for r in rows], float))

    return {
        "names": [r.name for r in rows],
        "types": [r.type for r in rows],
        "weight_shapes": ["×".join(map(str, r.weight_shape)) if r.weight_shape else "" for r in rows],
        "in_size": sizes("in_size"),
        "out_size": sizes("out_size"),
        "params": encode_array(np.array([r.params for r in rows], dtype=float)),
        "has_weights": encode_array(np.array([r.has_weights for r in rows], dtype=bool)),
        "shared": encode_array(np.array([r.shared for r in rows], dtype=float)),
        "lazy": encode_array(np.array([r.lazy for r in rows], dtype=bool)),
    }


class LayerBars(View):
    """One bar per layer of the model; ``selected_layer`` (the inspector's) holds the qualified name
    of the chosen one, so every other view of the inspector follows a click here.

    Bars show ``metric`` (``"parameters"`` or ``"output units"``), optionally on a log scale.
    Nested modules deeper than ``depth`` are folded into one bar (default: as deep as fits ~40 bars),
    which counts every parameter inside it once (tied weights are counted where they first appear).
    Layers without weights (activations, dropout, ...) are drawn hatched and grey.

    Example::

        import torch, nnwidgets as nw
        net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
        bars = nw.LayerBars(net, metric="output units")
        bars                      # click a bar, or focus it and press ← / →
        bars.selected_layer       # '0' until you pick another
    """

    _esm = static_file("layer_bars.js")
    _css = static_file("layer_bars.css")

    table = traitlets.Dict().tag(sync=True)
    metric = traitlets.Enum(METRICS, default_value="parameters").tag(sync=True)
    log_scale = traitlets.Bool(False).tag(sync=True)
    depth = traitlets.Int(0, help="fold modules nested deeper than this; 0 until set").tag(sync=True)
    max_depth = traitlets.Int(0, read_only=True).tag(sync=True)
    selected_layer = traitlets.Unicode("").tag(sync=True)

    mirrors: ClassVar[tuple[str, ...]] = ("selected_layer",)

    def __init__(self, source: Any, **kwargs: Any) -> None:
        self._rows: list[Layer] = []
        self._depth_given = "depth" in kwargs
        super().__init__(source, **kwargs)

    def update(self, changes: set[str]) -> None:
        if changes & {"model", "depth"}:
            self._fold()

    def _fold(self) -> None:
        model = self.inspector.model
        self.set_trait("max_depth", max_depth(model))
        if not self._depth_given and self.depth == 0 and (auto_depth(model) or self.max_depth):
            self.depth = auto_depth(model) or self.max_depth
            return  # the depth observer folds
        folding = self.depth if 0 < self.depth < self.max_depth else None
        self._rows = layer_table(model, folding)
        names = [r.name for r in self._rows]
        with self.hold_sync():
            self.table = table_payload(self._rows)
            selected = self.inspector.selected_layer
            if selected not in names:
                inside = [n for n in names if selected.startswith(n + ".")]
                weighted = [r.name for r in self._rows if r.has_weights]
                self.inspector.selected_layer = (inside or weighted or names or [""])[0]

    @property
    def rows(self) -> list[Layer]:
        """The rows currently drawn."""
        return list(self._rows)

    @traitlets.validate("depth")
    def _check_depth(self, proposal: dict) -> int:
        if proposal["value"] < 0:
            raise traitlets.TraitError(f"depth must be 0 or more, got {proposal['value']}")
        return proposal["value"]

    @traitlets.observe("depth")
    def _refold(self, _: dict) -> None:
        if self._ready:
            self._update_safely({"depth"})

    def figure(self) -> Figure:
        """The same bars as a matplotlib Figure."""
        fig = new_figure(6, 0.6 + 0.22 * max(len(self._rows), 1))
        draw_layer_bars(fig.add_subplot(), self._rows, self.metric, self.log_scale, self.selected_layer)
        return fig
