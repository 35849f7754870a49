import numpy as np
import pytest
import torch
from torch import nn

import nnwidgets as nw
from nnwidgets.core import decode_array
from nnwidgets.core.activations import bounds, leaf_layers
from nnwidgets.core.tasks import OverData, RowPass
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


def test_row_outputs_equal_a_manual_forward():
    net = planted_net()
    X = data(features=3)
    s = nw.Inspector(net, X)
    layers = s.compute(RowPass(tuple(X[4]))).layers
    x = torch.tensor(X[4:5], dtype=torch.float32)
    with torch.no_grad():
        assert np.allclose(layers["1"], net[1](net[0](x)).numpy())
        assert np.allclose(layers["3"], net(x).numpy())
    assert list(layers) == ["0", "1", "2", "3"]


def test_dead_and_saturated_units_over_the_data():
    net = planted_net()
    X = data(features=3)
    flags = nw.Inspector(net, X).compute(OverData()).pass_.flags
    x = torch.tensor(X, dtype=torch.float32)
    with torch.no_grad():
        hidden = net[1](net[0](x)).numpy()
    assert flags["1"][0].tolist() == list((hidden <= 0).all(axis=0))  # counted another way
    assert flags["1"][0].tolist() == [True, False, False, False] and not flags["1"][1].any()
    dead, saturated = flags["3"]
    assert saturated.tolist() == [False, True] and not dead.any()
    assert not flags["0"][0].any()  # a Linear layer's units are never called dead


@pytest.mark.parametrize("module, expected", [(nn.ReLU6(), (0.0, 6.0)), (nn.Hardtanh(-2.0, 3.0), (-2.0, 3.0)),
                                              (nn.Sigmoid(), (0.0, 1.0)), (nn.Tanh(), (-1.0, 1.0)), (nn.GELU(), None)])
def test_saturation_bounds_come_from_the_module(module, expected):
    assert bounds(module) == expected


def test_relu6_and_hardtanh_units_in_mid_range_are_not_saturated():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU6(), nn.Linear(4, 4), nn.Hardtanh(-3.0, 3.0))
    with torch.no_grad():
        net[0].weight.zero_(); net[0].bias.copy_(torch.tensor([1.0, 2.0, 3.0, 10.0]))  # noqa: E702
        net[2].weight.zero_(); net[2].bias.copy_(torch.tensor([-0.9, 0.9, 5.0, -5.0]))  # noqa: E702
    flags = nw.Inspector(net, data(features=3)).compute(OverData()).pass_.flags
    assert flags["1"][1].tolist() == [False, False, False, True]  # only 10 → 6 is at ReLU6's top
    assert flags["3"][1].tolist() == [False, False, True, True]  # ±0.9 is mid-range for ±3


def test_conv_outputs_are_flattened_and_lstm_tuples_handled():
    conv = nn.Sequential(nn.Unflatten(1, (1, 4, 4)), nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2))
    X = data(rows=5, features=16)
    assert nw.Inspector(conv, X).compute(RowPass(tuple(X[0]))).layers["1"].shape == (1, 2 * 2 * 2)

    class LastStep(nn.Module):
        def forward(self, out):
            return out[0][:, -1]

    lstm = nn.Sequential(nn.Unflatten(1, (1, 3)), nn.LSTM(3, 5, batch_first=True), LastStep(), nn.Linear(5, 2))
    X3 = data(rows=4, features=3)
    assert nw.Inspector(lstm, X3).compute(RowPass(tuple(X3[0]))).layers["1"].shape == (1, 5)
    assert [n for n, _ in leaf_layers(nn.Linear(2, 2))] == [""]


def test_widget_follows_values_selection_and_training():
    net = planted_net()
    X = data(features=3)
    s = nw.Inspector(net, X, selected_layer="1")
    act = nw.Activations(s).wait()
    assert act.activity["names"] == ["0", "1", "2", "3"] and act.selected_layer == "1"
    assert decode_array(act.activity["sizes"]).tolist() == [4, 4, 2, 2]
    assert decode_array(act.activity["dead"])[4:8].tolist() == [1, 0, 0, 0]
    act.values = [2.0, 3.0, 0.0]
    act.wait()
    assert decode_array(act.activity["values"])[4:8].tolist() == [0.0, 3.0, 0.0, 1.0]
    assert decode_array(act.activity["for_values"]).tolist() == [2.0, 3.0, 0.0]
    fig = act.figure()
    assert len(fig.axes) == 4 and "1 dead" in fig.axes[1].get_title()
    with torch.no_grad():
        net[0].bias.zero_()
    assert s.check_for_changes()
    act.wait()
    # Unit 0 now follows x0 and comes alive; unit 3 (an all-zero weight row) lost its +1 bias and died.
    assert decode_array(act.activity["dead"])[4:8].tolist() == [0, 0, 0, 1]
    s.selected_layer = "3"
    assert act.selected_layer == "3"


# -- pictures: conv layers as channel maps, flags per channel over a probe (issue 10, point 5) ----------------

def planted_cnn():
    """Channel 2 of the conv has weight 0 and bias -1 before a ReLU: dead on every picture. Channel 0 of the
    second conv, before a sigmoid, has bias +100: saturated."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 3, 3), nn.Sigmoid(),
                        nn.Flatten(), nn.Linear(3 * 36, 10))
    with torch.no_grad():
        net[0].weight[2].zero_()
        net[0].bias.copy_(torch.tensor([0.1, 0.1, -1.0, 0.1]))
        net[2].bias[0] = 100.0
    return net


def digit_images(rows=150):
    from sklearn.datasets import load_digits
    return load_digits().images[:rows, None] / 16.0


def test_conv_channels_dead_and_saturated_over_a_probe():
    from nnwidgets.core.channel_activity import ProbeFlags

    net, images = planted_cnn(), digit_images()
    flags = nw.Inspector(net, images).compute(ProbeFlags()).flags
    dead, saturated, per = flags["1"]
    assert per == "channel" and dead.tolist() == [False, False, True, False] and not saturated.any()
    with torch.no_grad():  # counted another way: a channel positive nowhere on any picture
        relu = net[1](net[0](torch.tensor(images, dtype=torch.float32))).numpy()
        sig = net[3](net[2](net[1](net[0](torch.tensor(images, dtype=torch.float32))))).numpy()
    assert dead.tolist() == list((relu <= 0).all(axis=(0, 2, 3)))
    dead, saturated, _ = flags["3"]
    assert saturated.tolist() == list(((sig <= 0.02) | (sig >= 0.98)).mean(axis=(0, 2, 3)) >= 0.95)
    assert saturated[0] and not dead.any()
    assert flags["5"][2] == "unit" and len(flags["5"][0]) == 10


def test_activations_view_shows_channel_maps_for_pictures():
    net, images = planted_cnn(), digit_images()
    s = nw.Inspector(net, images, row=4)
    act = nw.Activations(s).wait()
    layers = {layer.name: layer for layer in act.layers}
    assert list(layers) == ["0", "1", "2", "3", "4", "5"]
    with torch.no_grad():
        relu = net[1](net[0](torch.tensor(images[4:5], dtype=torch.float32)))[0].double().numpy()
    np.testing.assert_array_equal(layers["1"].maps, relu)
    np.testing.assert_allclose(layers["1"].means, relu.mean(axis=(1, 2)))
    assert layers["1"].dead.tolist() == [False, False, True, False] and layers["5"].maps is None
    maps = decode_array(act.activity["maps"]).reshape(-1, 4)
    assert maps[1].tolist() == [4, 8, 8, 1] and maps[5].tolist() == [0, 0, 0, 0]
    assert decode_array(act.activity["flag_sizes"]).tolist() == [4, 4, 3, 3, 108, 10]
    assert decode_array(act.activity["dead"])[4:8].tolist() == [0, 0, 1, 0]
    fig = act.figure()
    assert "1 channels dead" in fig.axes[1].get_title()
    s.row = 9
    act.wait()
    with torch.no_grad():
        conv = net[0](torch.tensor(images[9:10], dtype=torch.float32))[0].double().numpy()
    np.testing.assert_array_equal({layer.name: layer for layer in act.layers}["0"].maps, conv)


def test_activations_of_pictures_send_no_per_pixel_names():
    # The page draws layers, not pixels: a name and a range per pixel value (150,528 of them for a
    # 224 x 224 x 3 picture) would be sent for nothing. A table still gets its features' names.
    net, images = planted_cnn(), digit_images()
    act = nw.Activations(nw.Inspector(net, images))
    assert act.features == {"rows": len(images), "image": [1, 8, 8]}
    assert "y0 x0" not in str(act.get_state())
    X = data(features=3)
    table = nw.Activations(nw.Inspector(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)), X))
    assert table.features["names"] == ["x0", "x1", "x2"]


def test_a_stroke_on_a_picture_sends_the_page_a_digest_not_the_picture():
    from nnwidgets.core import decode_array

    torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    pictures = np.random.default_rng(0).random((6, 3, 64, 64))
    s = nw.Inspector(cnn, pictures)
    view = nw.Activations(s)
    view.wait()
    first = decode_array(view.activity["for_values"])
    painted = pictures[0].copy()
    painted[:, 10:20, 10:20] = 1.0
    s.values = painted
    view.wait()
    second = decode_array(view.activity["for_values"])
    assert first.size == second.size == 1 and first[0] != second[0]  # a digest that follows the picture
    assert not view._should_send_property("values", view.values)  # the 12,288 values stay in the kernel
    table = nw.Activations(nn.Linear(3, 2), np.zeros((4, 3)))
    assert table._should_send_property("values", table.values)  # tables still send their row to the editor pages
    view.close(), table.close()
