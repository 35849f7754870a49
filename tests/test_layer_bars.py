import numpy as np
import pytest
import traitlets
import torch
from matplotlib.figure import Figure
from torch import nn

import nnwidgets as nw
from nnwidgets import _live
from nnwidgets.core import decode_array


def test_table_travels_as_binary_columns(mlp):
    bars = nw.LayerBars(mlp)
    table = bars.table
    assert table["names"] == ["0", "1", "2"]
    assert table["types"] == ["Linear", "ReLU", "Linear"]
    assert table["weight_shapes"] == ["8×4", "", "3×8"]
    for column in ("in_size", "out_size", "params", "has_weights"):
        assert isinstance(table[column]["buffer"], bytes)
    assert decode_array(table["params"]).tolist() == [40, 0, 27]
    assert decode_array(table["out_size"]).tolist() == [8, 8, 3]
    assert decode_array(table["has_weights"]).tolist() == [1, 0, 1]


def test_first_weighted_layer_selected_and_validated(mlp):
    bars = nw.LayerBars(mlp)
    assert bars.selected_layer == "0"
    bars.selected_layer = "2"
    with pytest.raises(traitlets.TraitError, match="no layer named '7'"):
        bars.selected_layer = "7"
    assert bars.selected_layer == "2"


def test_depth_folds_and_keeps_selection_inside_the_fold():
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.ReLU()), nn.Linear(3, 1))
    bars = nw.LayerBars(model, selected_layer="0.0")
    assert bars.max_depth == 2 and bars.depth == 2
    bars.depth = 1
    assert bars.table["names"] == ["0", "1"]
    assert decode_array(bars.table["params"]).tolist() == [9, 4]
    assert bars.selected_layer == "0"


def test_big_transformer_defaults_to_a_readable_depth():
    model = nn.Transformer(d_model=16, nhead=2, num_encoder_layers=12, num_decoder_layers=12, dim_feedforward=16)
    bars = nw.LayerBars(model)
    assert 10 <= len(bars.table["names"]) <= 40
    assert bars.selected_layer == "encoder.layers.0"


def test_bad_arguments(mlp):
    with pytest.raises(TypeError, match="expected a torch.nn.Module"):
        nw.LayerBars(mlp.state_dict())
    with pytest.raises(TypeError, match="unexpected keyword argument.*'colour'.*accepted:.*metric"):
        nw.LayerBars(mlp, colour="red")
    with pytest.raises(Exception, match="metric"):
        nw.LayerBars(mlp, metric="flops")


def test_refreshes_after_the_model_grows_between_cells(mlp):
    bars = nw.LayerBars(mlp)
    mlp.append(nn.Softmax(dim=-1))
    _live.refresh_changed()  # what IPython's post_run_cell event calls after each cell
    assert bars.table["names"][-1] == "3"
    assert bars.table["types"][-1] == "Softmax"


def test_empty_model_shows_its_root():
    bars = nw.LayerBars(nn.Sequential())
    assert bars.table["names"] == [""] and bars.selected_layer == ""


def test_html_names_are_kept_verbatim_for_text_rendering():
    evil = "<img src=x onerror=alert(1)>"
    model = nn.Sequential()
    model.add_module(evil, nn.Linear(2, 2))
    bars = nw.LayerBars(model)
    assert bars.table["names"] == [evil] and bars.selected_layer == evil


def test_figure_draws_one_bar_per_row_log_scale(mlp):
    bars = nw.LayerBars(mlp, log_scale=True)
    fig = bars.figure()
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.patches) == 3 and ax.get_xscale() == "log"
    assert [p.get_width() for p in ax.patches] == [40, 0, 27]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1", "2"]
