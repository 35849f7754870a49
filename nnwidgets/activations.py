"""Activations: every layer's output for the current input values, dead and saturated units flagged."""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets
from matplotlib.figure import Figure

from ._tabular_widget import TabularWidget
from ._widget import static_file
from .core import diverging_lut, encode_array, model_signature
from .core.activations import LayerActivity, dataset_flags, layer_activity
from .core.figures import new_figure
from .core.figures_explain import NEGATIVE, POSITIVE


def activity_payload(activity: list[LayerActivity]) -> dict:
    """All layers' units concatenated into one buffer per kind; ``sizes`` splits them again."""
    return {
        "names": [a.name for a in activity],
        "types": [a.type for a in activity],
        "sizes": encode_array(np.array([a.values.shape[1] for a in activity], dtype=np.int32)),
        "values": encode_array(np.concatenate([a.values[0] for a in activity]).astype(np.float32)),
        "dead": encode_array(np.concatenate([a.dead for a in activity])),
        "saturated": encode_array(np.concatenate([a.saturated for a in activity])),
    }


class Activations(TabularWidget):
    """Each layer's output for the current values: bars for small layers, a colour strip for wide
    ones. Units that never activate over ``X`` (dead rectifiers) and units stuck near a bound
    (saturated sigmoid/tanh) are flagged. ``selected_layer`` highlights a layer and can be linked
    to :class:`LayerBars`. Same arguments and ``row``/``values`` traits as the explanation widgets.

    Example::

        import torch, traitlets, nnwidgets as nw
        from sklearn.datasets import load_digits
        digits = load_digits()
        net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
        act = nw.Activations(net, digits.data / 16)
        bars = nw.LayerBars(net)
        traitlets.link((bars, "selected_layer"), (act, "selected_layer"))
        act.row = 5
    """

    _esm = static_file("activations.js")
    _css = static_file("activations.css")

    selected_layer = traitlets.Unicode("").tag(sync=True)
    activity = traitlets.Dict(read_only=True).tag(sync=True)
    colormap = traitlets.Dict(read_only=True).tag(sync=True)

    def __init__(self, model: Any, X: Any, **kwargs: Any) -> None:
        self._preprocess = kwargs.get("preprocess")
        self._flags: tuple[Any, dict] | None = None
        self.layers: list[LayerActivity] = []
        super().__init__(model, X, **kwargs)
        self.set_trait("colormap", encode_array(diverging_lut()))

    def _dataset_flags(self) -> dict:
        signature = model_signature(self.model)
        if self._flags is None or self._flags[0] != signature:
            self._flags = (signature, dataset_flags(self.model, self.data.X, self._preprocess))
        return self._flags[1]

    def update(self) -> None:
        try:
            self.layers = layer_activity(self.model, self.current, self._dataset_flags(), self._preprocess)
        except Exception as error:
            self._set_error(f"activations failed: {error}")
            return
        self._set_error("")
        payload = activity_payload(self.layers)
        payload["for_values"] = encode_array(self.current)
        self.set_trait("activity", payload)

    def figure(self) -> Figure:
        """Each layer's units as a bar chart, dead units hatched, saturated ones outlined."""
        fig = new_figure(8, 1.3 * max(len(self.layers), 1))
        for i, layer in enumerate(self.layers):
            ax = fig.add_subplot(len(self.layers), 1, i + 1)
            v = layer.values[0]
            bars = ax.bar(np.arange(len(v)), v, color=[POSITIVE if x > 0 else NEGATIVE for x in v], width=1.0)
            for bar, dead, saturated in zip(bars, layer.dead, layer.saturated):
                if dead:
                    bar.set_hatch("xx")
                if saturated:
                    bar.set_edgecolor("#222222")
            selected = layer.name == self.selected_layer or layer.name.startswith(self.selected_layer + ".")
            ax.set_title(f"{layer.name} ({layer.type}): {int(layer.dead.sum())} dead, {int(layer.saturated.sum())} saturated",
                         fontsize=8, fontweight="bold" if selected and self.selected_layer else "normal")
            ax.tick_params(labelsize=6)
        return fig
