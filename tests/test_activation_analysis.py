import numpy as np
import pytest
import torch
from torch import nn

import nnwidgets as nw
from nnwidgets.core import decode_array
from nnwidgets.core.activation_analysis import is_activation
from nnwidgets.core.tasks import OverData
from planted import data


def test_histograms_curve_and_fractions():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Sigmoid())
    with torch.no_grad():
        net[0].bias[0] = -100.0  # one dead unit of four
        net[2].bias[1] = 100.0  # one saturated unit of two
    X = data(features=3)
    relu, sigmoid = nw.Inspector(net, X).compute(OverData()).pass_.analysis
    assert (relu.name, relu.type, sigmoid.type) == ("1", "ReLU", "Sigmoid")
    assert relu.pre_counts.sum() == relu.post_counts.sum() == 4 * len(X)
    with torch.no_grad():
        pre = net[0](torch.tensor(X, dtype=torch.float32)).numpy()
    assert np.array_equal(relu.pre_counts, np.histogram(pre, bins=40)[0])  # counted another way
    assert relu.dead_fraction == 0.25 and sigmoid.saturated_fraction == 0.5
    assert np.allclose(relu.curve_y, np.maximum(relu.curve_x, 0))
    assert np.allclose(sigmoid.curve_y, 1 / (1 + np.exp(-sigmoid.curve_x)), atol=1e-6)
    assert relu.curve_x[0] == relu.pre_edges[0] and relu.curve_x[-1] == relu.pre_edges[-1]
    assert all(not m._forward_hooks for m in net.modules())


def test_per_channel_prelu_is_analysed():
    torch.manual_seed(0)
    prelu = nn.PReLU(4)
    with torch.no_grad():
        prelu.weight.copy_(torch.tensor([0.1, 0.2, 0.3, 0.4]))
    net = nn.Sequential(nn.Linear(3, 4), prelu, nn.Linear(4, 2))
    (use,) = nw.Inspector(net, data(features=3)).compute(OverData()).pass_.analysis
    assert use.type == "PReLU" and "4 channels" in use.curve_note
    slope = np.where(use.curve_x >= 0, 1.0, 0.25)  # the channels' mean slope below zero
    assert np.allclose(use.curve_y, slope * use.curve_x, atol=1e-6)


def test_histograms_come_from_a_sample_of_big_data_flags_from_all_rows():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    X = data(rows=30_000, features=3)
    result = nw.Inspector(net, X).compute(OverData()).pass_
    (use,) = result.analysis
    assert result.histogram_rows == use.rows == 20_000 and use.pre_counts.sum() == 4 * 20_000


def test_which_modules_count_as_activations():
    assert is_activation(nn.GELU()) and is_activation(nn.Tanh()) and is_activation(nn.LeakyReLU())
    assert not is_activation(nn.Softmax(dim=1)) and not is_activation(nn.Linear(1, 1))
    assert not is_activation(nn.MultiheadAttention(4, 2))


def test_widget_payload_message_and_errors():
    net = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    aa = nw.ActivationAnalysis(net, data(features=3)).wait()
    assert aa.analysis["names"] == ["1"] and aa.message == ""
    assert decode_array(aa.analysis["pre_counts"]).shape == (1, 40)
    assert aa.analysis["histogram_rows"] == aa.analysis["rows"] == 400
    assert len(aa.figure().axes) == 2
    plain = nw.ActivationAnalysis(nn.Sequential(nn.Linear(3, 2)), data(features=3)).wait()
    assert "no activation layers" in plain.message
    with pytest.raises(ValueError, match="could not take X's rows"):
        nw.ActivationAnalysis(net, data(features=4))
