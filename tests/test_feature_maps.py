"""FeatureMaps (issue 10, point 3): channel maps equal to a forward hook on the user's model run directly,
filters, shrinking that keeps extremes, sorting, unit selection, bad inputs, the model left untouched."""

import threading
import time

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

import nnwidgets as nw
from conftest import assert_same_state, fingerprint
from nnwidgets.core import decode_array
from nnwidgets.core.feature_maps import FeatureMapsTask, channel_order, feature_maps, first_layer_filters, shrink_maps
from resnet_like import ResNet18


def digits_cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(64, 10))


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    return d.images[:120, None] / 16.0


def hooked_output(model: nn.Module, layer: str, image: np.ndarray) -> np.ndarray:
    """The oracle: the user's model itself run on the picture with a forward hook (in the test only)."""
    kept = []
    handle = model.get_submodule(layer).register_forward_hook(lambda m, i, o: kept.append(o.detach().clone()))
    try:
        with torch.no_grad():
            model(torch.tensor(image[None], dtype=torch.float32))
    finally:
        handle.remove()
    return kept[0][0].double().numpy()


@pytest.mark.parametrize("layer", ["0", "1", "2", "3", "4"])
def test_maps_equal_a_hook_on_the_model_itself(digits, layer):
    net = digits_cnn().eval()
    with torch.no_grad():
        net[1].running_mean.uniform_(-0.5, 0.5)
    s = nw.Inspector(net, digits, row=7)
    result = feature_maps(s, layer)
    expected = hooked_output(net, layer, digits[7])
    np.testing.assert_array_equal(result.maps, expected)
    np.testing.assert_allclose(result.means, expected.mean(axis=(1, 2)))
    assert result.layer == layer and result.shape == expected.shape and result.seconds >= 0


def test_painted_values_and_conv1d_conv3d(digits):
    net = digits_cnn().eval()
    s = nw.Inspector(net, digits)
    painted = np.zeros((8, 8))
    painted[2:6, 3] = 1.0
    s.values = painted
    np.testing.assert_array_equal(feature_maps(s, "0").maps, hooked_output(net, "0", painted[None]))

    one_d = nn.Sequential(nn.Flatten(2), nn.Conv1d(1, 3, 5), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 60, 2))
    s1 = nw.Inspector(one_d, digits)
    assert feature_maps(s1, "1").maps.shape == (3, 1, 60)
    np.testing.assert_array_equal(feature_maps(s1, "1").maps[:, 0], hooked_output(one_d, "1", digits[0]))

    three_d = nn.Sequential(nn.Unflatten(1, (1, 1)), nn.Conv3d(1, 2, (1, 3, 3)), nn.Flatten(), nn.Linear(2 * 36, 2))
    s3 = nw.Inspector(three_d, digits)
    assert feature_maps(s3, "1").maps.shape == (2, 6, 6)
    assert first_layer_filters(three_d).shape == (2, 1, 3, 3) and first_layer_filters(one_d).shape == (3, 1, 1, 5)


def test_filters_are_the_first_conv_weights_and_untouched(digits):
    net = digits_cnn()
    before = fingerprint(net)
    tiles = first_layer_filters(net)
    np.testing.assert_array_equal(tiles, net[0].weight.detach().double().numpy())
    assert_same_state(before, fingerprint(net))
    with pytest.raises(ValueError, match="no Conv"):
        first_layer_filters(nn.Sequential(nn.Linear(2, 2)))


def test_linear_and_unknown_layers_say_why(digits):
    s = nw.Inspector(digits_cnn(), digits)
    with pytest.raises(ValueError, match="Linear layer"):
        feature_maps(s, "7")
    with pytest.raises(ValueError, match="not channel maps"):
        feature_maps(s, "6")  # Flatten: (1, 64)
    with pytest.raises(ValueError, match="no layer named"):
        feature_maps(s, "conv9")


def test_shrinking_keeps_each_maps_extremes():
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(64, 112, 112))
    maps[3, 50, 50], maps[3, 50, 51] = 40.0, -45.0  # both extremes of map 3 in one 3×3 block
    shrunk = shrink_maps(maps)
    assert shrunk.block == 3 and shrunk.maps.shape == (64, 38, 38)
    flat, small = maps.reshape(64, -1), shrunk.maps.reshape(64, -1)
    np.testing.assert_array_equal(small.max(axis=1), flat.max(axis=1))
    np.testing.assert_array_equal(small.min(axis=1), flat.min(axis=1))
    assert set(np.unique(small)) <= set(np.unique(maps))  # only values that are there
    assert shrink_maps(maps[:2, :10, :10]).block == 1


def test_sorting_by_mean():
    means = np.array([0.2, 0.9, -1.0, 0.9])
    assert channel_order(means, False).tolist() == [0, 1, 2, 3]
    assert channel_order(means, True).tolist() == [1, 3, 0, 2]


def test_widget_unit_sorting_and_following(digits):
    net = digits_cnn().eval()
    s = nw.Inspector(net, digits, class_names=[str(d) for d in range(10)])
    fm = nw.FeatureMaps(s).wait()
    assert fm.selected_layer == "0" and fm.maps["layer"] == "0" and fm.maps["shape"] == [6, 8, 8]
    assert [layer["name"] for layer in fm.layers] == ["0", "1", "2", "3", "4", "5"]
    assert fm.filters["layer"] == "0" and decode_array(fm.filters["values"]).size == 6 * 9
    np.testing.assert_array_equal(decode_array(fm.maps["values"]).reshape(6, 8, 8), hooked_output(net, "0", digits[0]).astype(np.float32))

    fm.sort_by_mean = True
    expected = np.argsort(-hooked_output(net, "0", digits[0]).mean(axis=(1, 2)), kind="stable")
    assert fm.order.tolist() == expected.tolist()

    fm.unit = 4
    assert fm.enlarged["unit"] == 4
    np.testing.assert_array_equal(decode_array(fm.enlarged["values"]), hooked_output(net, "0", digits[0])[4].astype(np.float32))
    with pytest.raises(Exception, match="unit must be"):
        fm.unit = 6

    s.row = 9  # the grid follows the row; the unit stays (same layer)
    fm.wait()
    assert fm.maps["row"] == 9 and fm.unit == 4
    np.testing.assert_array_equal(fm.result.maps, hooked_output(net, "0", digits[9]))
    s.selected_layer = "4"  # another layer: no channel of it is selected yet
    fm.wait()
    assert fm.maps["layer"] == "4" and fm.unit == -1 and fm.maps["shape"] == [4, 4, 4]

    with torch.no_grad():
        net[4].bias.add_(1.0)
    assert s.check_for_changes()
    fm.wait()
    np.testing.assert_array_equal(fm.result.maps, hooked_output(net, "4", digits[9]))
    fig = fm.figure()
    assert len(fig.axes) == 4


def test_linear_layer_selected_shows_an_error_in_the_widget(digits):
    s = nw.Inspector(digits_cnn(), digits, selected_layer="7")
    fm = nw.FeatureMaps(s).wait()
    assert "Linear layer" in fm.error
    s.selected_layer = "0"
    fm.wait()
    assert fm.error == "" and fm.maps["layer"] == "0"


def test_bad_inputs(digits):
    table = np.random.default_rng(0).normal(size=(20, 64))
    with pytest.raises(TypeError, match="image data"):
        nw.FeatureMaps(nw.Inspector(nn.Linear(64, 2), table))
    with pytest.raises(TypeError, match="images"):
        nw.FeatureMaps(nn.Linear(64, 2), table)
    with pytest.raises(TypeError, match="needs data"):
        nw.FeatureMaps(digits_cnn())
    with pytest.raises(TypeError, match="unexpected keyword"):
        nw.FeatureMaps(digits_cnn(), digits, colour="red")
    fm = nw.FeatureMaps(digits_cnn(), digits).wait()
    with pytest.raises(Exception, match="unit must be"):
        fm.unit = -3


def test_model_untouched_also_while_the_user_trains(digits):
    net = digits_cnn().train()
    net(torch.tensor(digits[:8], dtype=torch.float32)).sum().backward()
    net[0].register_forward_hook(lambda *a: None)
    before = fingerprint(net)
    s = nw.Inspector(net, digits)
    fm = nw.FeatureMaps(s)
    for row, layer in [(3, "1"), (5, "2"), (6, "0")]:
        s.select(row=row, selected_layer=layer)
        fm.unit = 1 if fm.result is not None and len(fm.result.maps) > 1 else -1
    fm.sort_by_mean = True
    fm.figure()
    assert_same_state(before, fingerprint(net))

    y = torch.tensor(load_digits().target[:120])
    x = torch.tensor(digits, dtype=torch.float32)
    problems = []

    def train():
        optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
        for _ in range(30):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(net(x), y)
            if not all(m.training for m in net.modules()):
                problems.append("a module was in eval mode during the user's step")
            loss.backward()
            optimizer.step()

    thread = threading.Thread(target=train)
    thread.start()
    i = 0
    while thread.is_alive():
        s.row = i % 100
        i += 1
        time.sleep(0.01)
    thread.join()
    assert problems == []
    s.check_for_changes()
    fm.wait()
    assert fm.error == ""
    assert all(m.training for m in net.modules())


def test_resnet18_sized_maps_are_quick_and_cached():
    torch.manual_seed(0)
    net = ResNet18().eval()
    images = np.random.default_rng(0).normal(size=(2, 3, 224, 224)).astype(np.float32)
    s = nw.Inspector(net, images)
    task = FeatureMapsTask(tuple(s.values.tolist()), "layer4.1.conv2")
    s.compute(FeatureMapsTask(tuple(s.values.tolist()), "conv1"))  # warm the shadow
    timings = []
    for layer in ("conv1", "layer1.0.relu", "layer3", "layer4.1.conv2"):
        start = time.perf_counter()
        result = feature_maps(s, layer)
        timings.append(time.perf_counter() - start)
        assert result.maps.ndim == 3
    assert max(timings) < 0.3, timings
    first = s.compute(task)
    assert s.compute(task) is first  # cached per version and picture
    np.testing.assert_array_equal(first.maps, hooked_output(net, "layer4.1.conv2", s.current_image))
