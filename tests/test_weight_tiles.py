import numpy as np
import pytest
import torch
import traitlets
from torch import nn

import nnwidgets as nw
from nnwidgets.core import decode_array
from nnwidgets.core.weight_tiles import weight_tiles


def test_linear_rows_become_images():
    net = nn.Sequential(nn.Linear(64, 5), nn.ReLU())
    name, tiles = weight_tiles(net)
    assert name == "0" and tiles.shape == (5, 8, 8)
    assert tiles[3, 2, 5] == net[0].weight[3, 2 * 8 + 5].item()


def test_input_shape_and_conv_kernels():
    _, tiles = weight_tiles(nn.Sequential(nn.Linear(12, 2)), input_shape=(3, 4))
    assert tiles.shape == (2, 3, 4)
    conv = nn.Sequential(nn.Conv2d(1, 6, 5))
    name, tiles = weight_tiles(conv)
    assert tiles.shape == (6, 5, 5) and np.array_equal(tiles[2], conv[0].weight[2, 0].detach().numpy())


@pytest.mark.parametrize(
    ("model", "kwargs", "message"),
    [
        (nn.Sequential(nn.Linear(10, 2)), {}, "not a square image: pass input_shape"),
        (nn.Sequential(nn.Linear(10, 2)), {"input_shape": (3, 4)}, "has 12 pixels but layer '0' takes 10"),
        (nn.Sequential(nn.ReLU()), {}, "no Linear or single-channel Conv2d"),
        (nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4)), {"layer": "1"}, "weight tiles need a Linear"),
    ],
)
def test_clear_errors(model, kwargs, message):
    with pytest.raises(ValueError, match=message):
        nw.WeightTiles(model, **kwargs)


def test_widget_on_digits_sized_layer_selection_and_refresh():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    tiles = nw.WeightTiles(net)
    assert tiles.tiles["values"]["shape"] == [16, 8, 8]
    assert np.allclose(decode_array(tiles.tiles["limits"]), net[0].weight.abs().max(1).values.detach().numpy())
    tiles.selected_unit = 3
    with pytest.raises(traitlets.TraitError, match="between 0 and 15"):
        tiles.selected_unit = 16
    with torch.no_grad():
        net[0].weight[3].fill_(0.5)
    assert tiles.inspector.check_for_changes()
    assert (decode_array(tiles.tiles["values"])[3] == 0.5).all()
    fig = tiles.figure()
    assert len(fig.axes) == 16 and fig.axes[3].get_title() == "3"
