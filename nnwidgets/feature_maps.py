"""FeatureMaps: the first conv layer's filters, and the selected conv layer's channel maps for the current picture."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

import numpy as np
import traitlets
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from ._view import View, static_file
from .core import Inspector, diverging_lut, encode_array
from .core.feature_maps import FeatureMapsResult, FeatureMapsTask, LayerShapes, channel_order, first_conv, first_layer_filters, map_layers, shrink_maps
from .core.figures import new_figure
from .core.images import is_image_data


def values_key(values: np.ndarray) -> str:
    """A short fingerprint of a picture, for the page to tell which picture it shows."""
    return hashlib.blake2b(np.ascontiguousarray(values, dtype=np.float64).tobytes(), digest_size=6).hexdigest()


class FeatureMaps(View):
    """What a convolutional network sees in the current picture: the first conv layer's filters as small
    tiles, and the selected layer's output channels (``selected_layer``, the inspector's, shared with every
    view; any layer whose output has channels and positions: conv, BatchNorm, activation, pooling) as a
    grid of heatmaps on one colour scale. Sort them by mean activation (``sort_by_mean``); click a map
    (or move with the arrow keys and press Enter) to enlarge it and to select that channel as ``unit``.
    It follows the picture (``row``, painted ``values``) and the model as it trains.

    Example::

        import numpy as np, torch, nnwidgets as nw
        from sklearn.datasets import load_digits
        digits = load_digits()
        images = digits.images[:, None] / 16.0            # (n, 1, 8, 8)
        cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(),
                                  torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten(), torch.nn.Linear(32, 10))
        s = nw.Inspector(cnn, images, class_names=[str(d) for d in range(10)])
        fm = nw.FeatureMaps(s)
        s.row = 3; fm.unit = 5          # channel 5 of layer "0" for picture 3
        fm.result.maps.shape            # (8, 8, 8): channels × height × width
    """

    _esm = static_file("feature_maps.js")
    _css = static_file("feature_maps.css")

    row = traitlets.Int(0, help="the picture shown").tag(sync=True)
    selected_layer = traitlets.Unicode("", help="the layer whose channels are shown (the inspector's)").tag(sync=True)
    unit = traitlets.Int(-1, help="the selected channel of the layer (-1: none)").tag(sync=True)
    sort_by_mean = traitlets.Bool(False, help="order the maps by mean activation, highest first").tag(sync=True)
    maps = traitlets.Dict(read_only=True).tag(sync=True)
    enlarged = traitlets.Dict(read_only=True).tag(sync=True)
    filters = traitlets.Dict(read_only=True).tag(sync=True)
    layers = traitlets.List(read_only=True).tag(sync=True)
    colormap = traitlets.Dict(read_only=True).tag(sync=True)

    needs_data: ClassVar[bool] = True
    mirrors: ClassVar[tuple[str, ...]] = ("row", "selected_layer")

    def __init__(self, source: Any, X: Any = None, **kwargs: Any) -> None:
        if isinstance(source, Inspector) and source.data is not None and source.image is None:
            raise TypeError("FeatureMaps needs image data: build the inspector as Inspector(model, images) with images "
                            "of shape (n, C, H, W), (n, H, W) or (n, H, W, C)")
        if not isinstance(source, Inspector) and X is not None and not is_image_data(X):
            raise TypeError(f"FeatureMaps needs images (n, C, H, W), (n, H, W) or (n, H, W, C); got X with {np.ndim(X)} axes")
        self._result: FeatureMapsResult | None = None
        self._layer_shown = ""
        super().__init__(source, X, **kwargs)
        self.set_trait("colormap", encode_array(diverging_lut()))

    # -- following the selection ------------------------------------------------------------------
    def update(self, changes: set[str]) -> None:
        if "model" in changes:
            self._send_filters()
            self.request("layers", LayerShapes(), self._show_layers)
        if changes & {"values", "selected_layer", "model"}:
            self._request_maps()

    def _request_maps(self) -> None:
        ins = self.inspector
        while True:
            values, layer = ins.values.copy(), ins.selected_layer
            self.request("maps", FeatureMapsTask(tuple(values.tolist()), layer),
                         lambda result, v=values: self._show_maps(result, v))
            if layer == ins.selected_layer and np.array_equal(values, ins.values):
                return

    def _send_filters(self) -> None:
        try:
            name, conv = first_conv(self.inspector.model)
            tiles = first_layer_filters(self.inspector.model)
        except ValueError as error:
            self.set_trait("filters", {"message": str(error)})
            return
        self.set_trait("filters", {"layer": name, "type": type(conv).__name__, "values": encode_array(tiles.astype(np.float32))})

    def _show_layers(self, shapes: dict) -> None:
        self.set_trait("layers", [{"name": n, "type": t, "shape": list(s)} for n, t, s in map_layers(self.inspector.model, shapes)])

    def _show_maps(self, result: FeatureMapsResult, values: np.ndarray) -> None:
        if result.layer != self._layer_shown:
            self._layer_shown = result.layer
            self.unit = -1  # a channel of another layer is another unit
        self._result = result
        shrunk = shrink_maps(result.maps)
        finite = result.maps[np.isfinite(result.maps)]
        with self.hold_sync():
            self.set_trait("maps", {
                "layer": result.layer, "type": result.type, "shape": list(result.maps.shape), "output_shape": list(result.shape),
                "values": encode_array(shrunk.maps.astype(np.float32)), "block": shrunk.block,
                "means": encode_array(result.means), "limit": float(np.abs(finite).max()) if finite.size else 0.0,
                "row": self.inspector.row, "for_values": values_key(values),
            })
            if self.unit >= len(result.maps):
                self.unit = -1
            self._send_enlarged()

    @traitlets.validate("unit")
    def _check_unit(self, proposal: dict) -> int:
        unit = proposal["value"]
        channels = None if self._result is None else len(self._result.maps)
        if unit < -1 or (channels is not None and unit >= channels):
            raise traitlets.TraitError(f"unit must be -1 (none) or a channel 0..{(channels or 1) - 1} of layer "
                                       f"{self.selected_layer!r}, got {unit}")
        return unit

    @traitlets.observe("unit")
    def _on_unit(self, _: dict) -> None:
        self._send_enlarged()

    def _send_enlarged(self) -> None:
        result, unit = self._result, self.unit
        if result is None or unit < 0:
            self.set_trait("enlarged", {})
            return
        m = result.maps[unit]
        self.set_trait("enlarged", {"layer": result.layer, "unit": unit, "values": encode_array(m.astype(np.float32)),
                                    "mean": float(result.means[unit])})

    # -- reading it from Python -------------------------------------------------------------------
    @property
    def result(self) -> FeatureMapsResult | None:
        """The shown layer's maps for the current picture (waits for them)."""
        self.wait()
        return self._result

    @property
    def order(self) -> np.ndarray:
        """The channels in display order (by index, or by mean activation with ``sort_by_mean``)."""
        result = self.result
        return np.zeros(0, int) if result is None else channel_order(result.means, self.sort_by_mean)

    def describe_failure(self, name: str) -> str:
        return {"maps": "feature maps failed", "layers": "finding the layers with channel maps failed"}.get(name, f"{name} failed")

    def figure(self, max_maps: int = 64) -> Figure:
        """The first ``max_maps`` channel maps (in display order) on one symmetric colour scale, the selected one outlined."""
        self.ready_to_draw()
        result = self._result
        order = self.order[:max_maps]
        cols = min(8, len(order))
        rows = -(-len(order) // cols)
        fig = new_figure(1.2 * cols, 1.3 * rows + 0.4)
        limit = float(np.nanmax(np.abs(result.maps))) or 1.0
        cmap = ListedColormap(diverging_lut() / 255.0)
        for i, k in enumerate(order):
            ax = fig.add_subplot(rows, cols, i + 1)
            ax.imshow(result.maps[k], cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest")
            ax.set_title(f"{k}: {result.means[k]:.3g}", fontsize=7, fontweight="bold" if k == self.unit else "normal")
            ax.set_xticks([])
            ax.set_yticks([])
            if k == self.unit:
                for spine in ax.spines.values():
                    spine.set_linewidth(2)
        fig.suptitle(f"{result.layer} ({result.type}): {len(result.maps)} channels, picture {self.row}", fontsize=9)
        return fig
