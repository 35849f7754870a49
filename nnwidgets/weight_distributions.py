"""WeightDistributions: every layer's weight histogram beside its Glorot and He initial distributions."""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets
from matplotlib.figure import Figure
from torch import nn

from ._widget import ModelWidget, static_file
from .core import encode_array, model_access
from .core.figures import new_figure
from .core.weight_distribution import BIAS_BINS, Distribution, weight_distributions

INIT_COLOURS = {"Glorot": "#ee7733", "He": "#009988"}  # Paul Tol's vibrant orange and teal


def distributions_payload(found: list[Distribution]) -> dict:
    """Each histogram family stacked into one matrix (layers × bins), sent as binary; a layer
    without a bias has NaN bias bins."""
    if not found:
        return {"names": []}
    no_bias_edges, no_bias_counts = np.full(BIAS_BINS + 1, np.nan), np.full(BIAS_BINS, np.nan)
    stack = lambda rows: encode_array(np.stack(rows).astype(np.float64))  # noqa: E731
    return {
        "names": [d.name for d in found],
        "types": [d.type for d in found],
        "fans": encode_array(np.array([[d.fan_in, d.fan_out] for d in found], dtype=np.int32)),
        "stds": stack([[d.std, *(d.expected_std[k] for k in INIT_COLOURS)] for d in found]),
        "edges": stack([d.edges for d in found]),
        "counts": stack([d.counts for d in found]),
        "expected": {k: stack([d.expected[k] for d in found]) for k in INIT_COLOURS},
        "bias_edges": stack([no_bias_edges if d.bias_edges is None else d.bias_edges for d in found]),
        "bias_counts": stack([no_bias_counts if d.bias_counts is None else d.bias_counts for d in found]),
    }


class WeightDistributions(ModelWidget):
    """A histogram of each layer's weights (and biases) with the Xavier/Glorot and He normal
    distributions for that layer's fan-in/fan-out overlaid, so a class can see how far training
    moved the weights from where initialisation put them. ``selected_layer`` links to LayerBars.

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

    def __init__(self, model: nn.Module, **kwargs: Any) -> None:
        self.found: list[Distribution] = []
        super().__init__(model, **kwargs)
        self.refresh()

    def refresh(self) -> None:
        try:
            with model_access(self.model) as model:
                self.found = weight_distributions(model)
        except ValueError as error:  # e.g. weights on the meta device
            self.found = []
            self.set_trait("message", str(error))
            return
        self.set_trait("message", "" if self.found else "this model has no weight matrices (Linear, Conv, Embedding, ...)")
        self.set_trait("distributions", distributions_payload(self.found))

    def figure(self) -> Figure:
        """The same histograms and initialisation curves as a matplotlib Figure."""
        n = max(len(self.found), 1)
        cols = min(3, n)
        rows = -(-n // cols)
        fig = new_figure(4 * cols, 2.6 * rows)
        for i, d in enumerate(self.found):
            ax = fig.add_subplot(rows, cols, i + 1)
            centres = (d.edges[:-1] + d.edges[1:]) / 2
            ax.bar(centres, d.counts, width=np.diff(d.edges), color="#bbbbbb", label="weights")
            for name, colour in INIT_COLOURS.items():
                ax.plot(centres, d.expected[name], color=colour, label=f"{name} init")
            ax.set_title(f"{d.name} ({d.type}) fan {d.fan_in}→{d.fan_out}", fontsize=8,
                         fontweight="bold" if d.name == self.selected_layer else "normal")
            ax.tick_params(labelsize=6)
            if i == 0:
                ax.legend(fontsize=6)
        return fig
