"""WeightTiles: each first-layer unit's incoming weights as an image tile; click one to select it."""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from ._view import View, static_file
from .core import diverging_lut, encode_array
from .core.figures import new_figure
from .core.weight_tiles import weight_tiles


class WeightTiles(View):
    """A grid of tiles, one per hidden unit of the first layer (or ``layer``): the unit's incoming
    weights laid out as the input image (``input_shape=(h, w)``, inferred for square inputs),
    red positive, blue negative, each tile on its own symmetric scale. Click a tile (or use the
    arrow keys) to set ``selected_unit``.

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_digits   # 8×8 images
        net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
        tiles = nw.WeightTiles(net)                # 32 tiles of 8×8
        tiles.selected_unit
    """

    _esm = static_file("weight_tiles.js")
    _css = static_file("weight_tiles.css")

    layer = traitlets.Unicode("").tag(sync=True)
    selected_unit = traitlets.Int(-1).tag(sync=True)
    tiles = traitlets.Dict(read_only=True).tag(sync=True)
    colormap = traitlets.Dict(read_only=True).tag(sync=True)

    def __init__(self, source: Any, layer: str | None = None, input_shape: tuple[int, int] | None = None, **kwargs: Any) -> None:
        self._input_shape = input_shape
        self._tiles = None
        super().__init__(source, **kwargs)
        name, _ = weight_tiles(self.inspector.model, layer, input_shape)  # raises a clear error up front
        self.layer = name
        self.set_trait("colormap", encode_array(diverging_lut()))
        self._draw()

    def update(self, changes: set[str]) -> None:
        if "model" in changes and self._tiles is not None:
            self._draw()

    @traitlets.validate("selected_unit")
    def _check_unit(self, proposal: dict) -> int:
        units = self.tiles["values"]["shape"][0] if self.tiles else None
        if units is not None and not -1 <= proposal["value"] < units:
            raise traitlets.TraitError(f"selected_unit must be -1 (none) or between 0 and {units - 1}")
        return proposal["value"]

    @traitlets.observe("layer")
    def _on_layer(self, _: dict) -> None:
        if self._tiles is not None:
            self._draw()

    def _draw(self) -> None:
        _, tiles = weight_tiles(self.inspector.model, self.layer, self._input_shape)
        self._tiles = tiles
        flat = tiles.reshape(len(tiles), -1)
        self.set_trait("tiles", {"values": encode_array(tiles.astype(np.float32)), "limits": encode_array(np.abs(flat).max(axis=1))})

    def figure(self) -> Figure:
        """The same tiles as a matplotlib Figure."""
        n = len(self._tiles)
        cols = min(8, n)
        rows = -(-n // cols)
        fig = new_figure(1.2 * cols, 1.3 * rows)
        cmap = ListedColormap(diverging_lut() / 255.0)
        for i, tile in enumerate(self._tiles):
            ax = fig.add_subplot(rows, cols, i + 1)
            limit = float(np.abs(tile).max()) or 1.0
            ax.imshow(tile, cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest")
            ax.set_title(str(i), fontsize=7, color="#ee6677" if i == self.selected_unit else "black")
            ax.set_axis_off()
        return fig
