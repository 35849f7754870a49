import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

import nnwidgets as nw
from nnwidgets.core import decode_array


def test_selection_links_bars_and_heatmap(mlp):
    explorer = nw.ModelExplorer(mlp)
    assert explorer.selected_layer == explorer.bars.selected_layer == explorer.heatmap.layer == "0"
    explorer.bars.selected_layer = "2"  # what a click on a bar does
    assert explorer.selected_layer == "2" and explorer.heatmap.heatmap["shape"] == [3, 8]
    explorer.selected_layer = "1"
    assert explorer.bars.selected_layer == "1" and "no weights" in explorer.heatmap.message


def test_options_reach_the_bars_and_start_layer(mlp):
    explorer = nw.ModelExplorer(mlp, layer="2", metric="output units", log_scale=True)
    assert explorer.bars.metric == "output units" and explorer.bars.log_scale
    assert explorer.heatmap.layer == "2"


def test_refresh_after_training(mlp):
    explorer = nw.ModelExplorer(mlp)
    with torch.no_grad():
        mlp[0].weight.add_(1.0)
    explorer.refresh()
    assert np.array_equal(decode_array(explorer.heatmap.heatmap["values"]), mlp[0].weight.detach().numpy())


def test_figure_has_bars_and_heatmap(mlp):
    fig = nw.ModelExplorer(mlp).figure()
    assert isinstance(fig, Figure)
    assert len(fig.axes[0].patches) == 3 and len(fig.axes[1].images) == 1


def test_model_explorer_rejects_non_modules():
    import pytest

    with pytest.raises(TypeError, match="expected a torch.nn.Module"):
        nw.ModelExplorer(object())
