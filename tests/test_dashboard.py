import numpy as np
import pytest
import torch
from torch import nn

import nnwidgets as nw
from nnwidgets.core import decode_array
from planted import Planted, data


def digits_like():
    torch.manual_seed(0)
    X = np.random.default_rng(0).random((120, 16))
    net = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
    return net, X


def test_one_row_and_one_layer_selection_drive_every_view():
    net, X = digits_like()
    dash = nw.Dashboard(net, X).wait()
    assert [dash.tabs.get_title(i) for i in range(7)] == ["Model", "Explain", "Inside", "Attributions", "Importance", "Surrogates", "Weights"]
    assert dash.tiles is not None and dash.tiles.tiles["values"]["shape"] == [8, 4, 4]
    dash.editor.row = 7  # a click in the editor
    dash.wait()
    for view in (dash.lime, dash.gam, dash.activations, dash.attributions, dash.importance, dash.surrogates):
        assert view.row == 7 and view.values == X[7].tolist(), type(view).__name__
    assert decode_array(dash.activations.activity["for_values"]).tolist() == X[7].tolist()
    dash.explorer.bars.selected_layer = "2"  # a click on a bar
    assert dash.selected_layer == dash.activations.selected_layer == dash.analysis.selected_layer == "2"
    assert dash.distributions.selected_layer == "2" and dash.explorer.heatmap.layer == "2"
    dash.target_class = 2
    dash.wait()
    assert dash.lime.result.label == 2 and dash.attributions.result.target == 2
    fig = dash.figure()
    assert len(fig.axes) == 4 and len(fig.axes[0].patches) == 3 and len(fig.axes[3].patches) == 3


def test_tabular_inputs_have_no_tiles_tab_and_bad_arguments_are_named():
    dash = nw.Dashboard(Planted(), data())
    assert dash.tiles is None
    with pytest.raises(TypeError, match="unexpected keyword argument.*'colour'"):
        nw.Dashboard(Planted(), data(), colour="red")
    with pytest.raises(ValueError, match="could not take X's rows"):
        nw.Dashboard(Planted(), data(features=2))
