"""WeightDistributions: every layer's weight histogram beside its Glorot and He initial distributions."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import traitlets
from matplotlib.figure import Figure

from ._view import View, static_file
from .core import encode_array
from .core.figures import new_figure
from .core.tasks import WeightStats
from .core.weight_distribution import BIAS_BINS, DEFAULT, Distribution

# Paul Tol's vibrant palette: magenta, orange, teal — distinct for every colour vision.
INIT_COLOURS = {DEFAULT: "#ee3377", "Glorot": "#ee7733", "He": "#009988"}


def distributions_payload(found: list[Distribution]) -> dict:
    """Each histogram family stacked into one matrix (layers × bins), sent as binary; a layer
    without a bias has NaN bias bins."""
    if not found:
        return {"names": []}
    no_bias_edges, no_bias_counts = np.full(BIAS_BINS + 1, np.nan), np.full(BIAS_BINS, np.nan)
    stack = lambda rows: encode_array(np.stack(rows).astype(np.float64))  # noqa: E731
    no_curve = np.full(len(found[0].counts), np.nan)
    return {
        "names": [d.name for d in found],
        "types": [d.type for d in found],
        "fans": encode_array(np.array([[d.fan_in, d.fan_out] for d in found], dtype=np.int32)),
        "stds": stack([[d.std, *(d.expected_std.get(k, np.nan) for k in INIT_COLOURS)] for d in found]),
        "edges": stack([d.edges for d in found]),
        "counts": stack([d.counts for d in found]),
        "expected": {k: stack([d.expected.get(k, no_curve) for d in found]) for k in INIT_COLOURS},
        "colours": INIT_COLOURS,
        "bias_edges": stack([no_bias_edges if d.bias_edges is None else d.bias_edges for d in found]),
        "bias_counts": stack([no_bias_counts if d.bias_counts is None else d.bias_counts for d in found]),
    }


class WeightDistributions(View):
    """A histogram of each layer's weights (and biases) with, for that layer's fan-in/fan-out,
    PyTorch's own default initialisation (what an untrained layer holds: uniform ±1/√fan-in for
    Linear and convolutions) and the Xavier/Glorot and He normal distributions overlaid, so a class
    can see how far training moved the weights from where initialisation put them.
    ``selected_layer`` is the inspector's (linked to LayerBars).

    Example::

        import torch, nnwidgets as nw
        net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
        dist = nw.WeightDistributions(net)
        dist                       # train a few epochs in the next cell: the histograms follow
    """

    _esm = static_file("weight_distributions.js")
    _css = static_file("weight_distributions.css")

    selected_layer = traitlets.Unicode("").tag(sync=True)
    distributions = traitlets.Dict(read_only=True).tag(sync=True)
    message = traitlets.Unicode("", read_only=True).tag(sync=True)

    mirrors: ClassVar[tuple[str, ...]] = ("selected_layer",)

    def __init__(self, source: Any, **kwargs: Any) -> None:
        self._found: list[Distribution] = []
        super().__init__(source, **kwargs)

    def update(self, changes: set[str]) -> None:
        if "model" in changes:
            self.request("histograms", WeightStats(), self._show)

    def _show(self, result: tuple[list[Distribution], list[str]]) -> None:
        found, skipped = result
        self._found = found
        notes = "; ".join(skipped)
        self.set_trait("message", notes if notes else "" if found else "this model has no weight matrices (Linear, Conv, Embedding, ...)")
        self.set_trait("distributions", distributions_payload(found))

    def describe_failure(self, name: str) -> str:
        return "weight histograms failed"

    @property
    def found(self) -> list[Distribution]:
        """One histogram per layer with a weight matrix (waits for them)."""
        self.wait()
        return list(self._found)

    def figure(self) -> Figure:
        """The same histograms and initialisation curves as a matplotlib Figure."""
        self.ready_to_draw()
        found = self.found
        n = max(len(found), 1)
        cols = min(3, n)
        rows = -(-n // cols)
        fig = new_figure(4 * cols, 2.6 * rows)
        for i, d in enumerate(found):
            ax = fig.add_subplot(rows, cols, i + 1)
            centres = (d.edges[:-1] + d.edges[1:]) / 2
            ax.bar(centres, d.counts, width=np.diff(d.edges), color="#bbbbbb", label="weights")
            for name, colour in INIT_COLOURS.items():
                if name in d.expected:
                    ax.plot(centres, d.expected[name], color=colour, label=f"{name} init")
            ax.set_title(f"{d.name} ({d.type}) fan {d.fan_in}→{d.fan_out}", fontsize=8,
                         fontweight="bold" if d.name == self.inspector.selected_layer else "normal")
            ax.tick_params(labelsize=6)
            if i == 0:
                ax.legend(fontsize=6)
        return fig
