import numpy as np
import pytest
import torch
from torch import nn

import nnwidgets as nw
from nnwidgets.core import decode_array
from nnwidgets.core.activations import dataset_flags, layer_activity, leaf_layers, record_outputs
from planted import data


def planted_net():
    """Unit 0 of the ReLU is dead (bias -100), unit 1 of the sigmoid saturated (bias +100)."""
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Sigmoid())
    with torch.no_grad():
        net[0].weight.copy_(torch.eye(4, 3))
        net[0].bias.copy_(torch.tensor([-100.0, 0.0, 0.0, 1.0]))
        net[2].weight.fill_(0.1)
        net[2].bias.copy_(torch.tensor([0.0, 100.0]))
    return net


def test_outputs_equal_a_manual_forward():
    net = planted_net()
    X = data(features=3)
    outputs = record_outputs(net, X)
    x = torch.tensor(X, dtype=torch.float32)
    with torch.no_grad():
        h = net[1](net[0](x))
        assert np.allclose(outputs["1"], h.numpy())
        assert np.allclose(outputs["3"], net(x).numpy())
    assert list(outputs) == ["0", "1", "2", "3"]


def test_dead_and_saturated_units_are_found():
    flags = dataset_flags(planted_net(), data(features=3))
    dead, saturated = flags["1"]
    assert dead.tolist() == [True, False, False, False] and not saturated.any()
    dead, saturated = flags["3"]
    assert saturated.tolist() == [False, True] and not dead.any()
    assert not flags["0"][0].any()  # a Linear layer's units are never called dead


def test_hooks_are_removed_even_when_the_forward_fails():
    class Boom(nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    net = nn.Sequential(nn.Linear(3, 3), Boom())
    with pytest.raises(RuntimeError, match="boom"):
        record_outputs(net, data(features=3))
    assert all(not m._forward_hooks for m in net.modules())


def test_conv_outputs_are_flattened_and_lstm_tuples_handled():
    conv = nn.Sequential(nn.Unflatten(1, (1, 4, 4)), nn.Conv2d(1, 2, 3), nn.ReLU())
    out = record_outputs(conv, data(rows=5, features=16))
    assert out["1"].shape == (5, 2 * 2 * 2)
    lstm = nn.LSTM(3, 5, batch_first=True)
    out = record_outputs(nn.Sequential(nn.Unflatten(1, (1, 3)), lstm), data(rows=4, features=3))
    assert out["1"].shape == (4, 5)
    assert [n for n, _ in leaf_layers(nn.Linear(2, 2))] == [""]


def test_widget_follows_values_and_selection():
    net = planted_net()
    X = data(features=3)
    act = nw.Activations(net, X, selected_layer="1")
    assert act.activity["names"] == ["0", "1", "2", "3"]
    sizes = decode_array(act.activity["sizes"]).tolist()
    assert sizes == [4, 4, 2, 2]
    assert decode_array(act.activity["dead"])[4:8].tolist() == [1, 0, 0, 0]
    act.values = [2.0, 3.0, 0.0]
    values = decode_array(act.activity["values"])
    assert values[4:8].tolist() == [0.0, 3.0, 0.0, 1.0]
    assert decode_array(act.activity["for_values"]).tolist() == [2.0, 3.0, 0.0]
    fig = act.figure()
    assert len(fig.axes) == 4 and "1 dead" in fig.axes[1].get_title()


def test_flags_refresh_after_training():
    net = planted_net()
    act = nw.Activations(net, data(features=3))
    with torch.no_grad():
        net[0].bias.zero_()
    assert act.refresh_if_changed()
    # Unit 0 now follows x0 and comes alive; unit 3 (an all-zero weight row) lost its +1 bias and died.
    assert decode_array(act.activity["dead"])[4:8].tolist() == [0, 0, 0, 1]


def test_layer_activity_in_a_script():
    net = planted_net()
    X = data(features=3)
    layers = layer_activity(net, X[0], dataset_flags(net, X))
    assert [a.type for a in layers] == ["Linear", "ReLU", "Linear", "Sigmoid"]
