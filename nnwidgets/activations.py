"""Activations: every layer's output for the current input values, dead and saturated units flagged."""

from __future__ import annotations

from typing import Any, ClassVar

import zlib

import numpy as np
import traitlets
from matplotlib.figure import Figure

from ._tabular import TabularView
from ._view import static_file
from .core import diverging_lut, encode_array
from .core.activations import LayerActivity, layer_activity
from .core.channel_activity import LayerMaps, ProbeFlags, ProbeFlagsResult, image_layer_activity
from .core.figures import new_figure
from .core.figures_explain import NEGATIVE, POSITIVE
from .core.tasks import DataResult, OverData, RowPass, RowResult


def activity_payload(activity: list[LayerActivity]) -> dict:
    """All layers' units concatenated into one buffer per kind; ``sizes`` splits them again (the flags by
    ``flag_sizes``: per channel for channel maps). ``maps[i]`` is (channels, h, w, block) of layer i's
    maps, zeros for layers without."""
    return {
        "names": [a.name for a in activity],
        "types": [a.type for a in activity],
        "sizes": encode_array(np.array([a.values.shape[0] for a in activity], dtype=np.int32)),
        "flag_sizes": encode_array(np.array([a.dead.shape[0] for a in activity], dtype=np.int32)),
        "maps": encode_array(np.array([(*a.maps.shape, a.block) if a.maps is not None else (0, 0, 0, 0) for a in activity],
                                      dtype=np.int32).reshape(-1, 4)),
        "values": encode_array(np.concatenate([a.values for a in activity]).astype(np.float32) if activity else np.zeros(0, np.float32)),
        "dead": encode_array(np.concatenate([a.dead for a in activity]) if activity else np.zeros(0, bool)),
        "saturated": encode_array(np.concatenate([a.saturated for a in activity]) if activity else np.zeros(0, bool)),
    }



def picture_digest(values: np.ndarray) -> np.ndarray:
    """A picture's CRC-32 as a one-element array (what the page keys the drawn picture by)."""
    return np.array([zlib.crc32(np.ascontiguousarray(values, dtype="<f8").tobytes())], dtype=np.float64)

class Activations(TabularView):
    """Each layer's output for the current values: bars for small layers, a colour strip for wide
    ones. Units that never activate over ``X`` (dead rectifiers) and units stuck near a bound of
    their function (saturated sigmoid, tanh, hardtanh, ReLU6 …) are flagged; the current row's
    outputs come from the same forward pass as the prediction, the flags from the inspector's one
    pass over the data. ``selected_layer`` is the inspector's (linked to LayerBars).

    For pictures (``Inspector(model, images)``), layers whose output has channels and positions (conv,
    BatchNorm, activations and pooling after them) show one small map per channel for the current picture,
    and the flags are per channel over a probe of up to 256 pictures: dead (a rectifier's channel zero
    everywhere on at least 99 % of them), saturated (at a bound of a sigmoid, tanh … at 95 % of its values).

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_digits
        digits = load_digits()
        net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
        s = nw.Inspector(net, digits.data / 16)
        nw.Activations(s); nw.LayerBars(s)     # click a bar: the activations highlight that layer
        s.row = 5
    """

    _esm = static_file("activations.js")
    _css = static_file("activations.css")

    selected_layer = traitlets.Unicode("").tag(sync=True)
    activity = traitlets.Dict(read_only=True).tag(sync=True)
    colormap = traitlets.Dict(read_only=True).tag(sync=True)

    mirrors: ClassVar[tuple[str, ...]] = ("row", "values", "target_class", "selected_layer")
    pixel_features: ClassVar[bool] = False  # the page draws layers, not the picture's pixels

    def __init__(self, source: Any, X: Any = None, **kwargs: Any) -> None:
        self.layers: list[LayerActivity] = []
        self._row: tuple[RowResult, np.ndarray] | None = None
        self._flags: dict | ProbeFlagsResult | None = None
        super().__init__(source, X, **kwargs)
        self.set_trait("colormap", encode_array(diverging_lut()))

    def update(self, changes: set[str]) -> None:
        images = self.inspector.image is not None
        if "model" in changes:
            self._flags = None
            self.request("flags", ProbeFlags() if images else OverData(), self._show_flags)
        if changes & {"values", "model"}:
            self.request_current("row", LayerMaps if images else RowPass, self._show_row)

    def _show_row(self, result: RowResult, values: np.ndarray) -> None:
        self._row = (result, values)
        self._draw()

    def _show_flags(self, result: DataResult | ProbeFlagsResult) -> None:
        self._flags = result if isinstance(result, ProbeFlagsResult) else result.pass_.flags
        self._draw()

    def _draw(self) -> None:
        if self._row is None:
            return
        result, values = self._row
        if isinstance(result, RowResult):
            self.layers = layer_activity(self.inspector.model, result.layers, self._flags)
        else:  # pictures: LayerMaps' outputs, flags over the probe
            self.layers = image_layer_activity(self.inspector.model, result, self._flags)
        payload = activity_payload(self.layers)
        # For pictures a digest names the picture drawn: the picture itself (1.2 MB at 224 × 224 × 3) stays here.
        payload["for_values"] = encode_array(values if self.inspector.image is None else picture_digest(values))
        payload["flags_ready"] = self._flags is not None
        self.set_trait("activity", payload)

    def describe_failure(self, name: str) -> str:
        return "activations failed" if name == "row" else "unit flags over the data failed"

    def _should_send_property(self, key: str, value: Any) -> bool:
        """The page draws layers, never the picture: a brush stroke on a big picture is not sent to it."""
        if key == "values" and self.inspector is not None and self.inspector.image is not None:
            return False
        return super()._should_send_property(key, value)

    def figure(self) -> Figure:
        """Each layer's units (channel maps: each channel's mean) as a bar chart, dead ones hatched,
        saturated ones outlined."""
        self.ready_to_draw()
        fig = new_figure(8, 1.3 * max(len(self.layers), 1))
        selected = self.inspector.selected_layer
        for i, layer in enumerate(self.layers):
            ax = fig.add_subplot(len(self.layers), 1, i + 1)
            v = layer.values if layer.means is None else layer.means
            bars = ax.bar(np.arange(len(v)), v, color=[POSITIVE if x > 0 else NEGATIVE for x in v], width=1.0)
            for bar, dead, saturated in zip(bars, layer.dead, layer.saturated):
                if dead:
                    bar.set_hatch("xx")
                if saturated:
                    bar.set_edgecolor("#222222")
            bold = bool(selected) and (layer.name == selected or layer.name.startswith(selected + "."))
            per = " channels" if layer.maps is not None else ""
            ax.set_title(f"{layer.name} ({layer.type}): {int(layer.dead.sum())}{per} dead, {int(layer.saturated.sum())} saturated",
                         fontsize=8, fontweight="bold" if bold else "normal")
            ax.tick_params(labelsize=6)
        return fig
