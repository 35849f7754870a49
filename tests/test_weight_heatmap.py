import threading

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

import nnwidgets as nw
from nnwidgets import _live
from nnwidgets.core import decode_array, diverging_lut
from nnwidgets.core.tasks import WeightPicture


def shown(heat) -> np.ndarray:
    return decode_array(heat.heatmap["values"])


def test_defaults_to_first_weighted_layer(mlp):
    heat = nw.WeightHeatmap(mlp)
    assert (heat.layer, heat.parameter, heat.parameters) == ("0", "weight", ["weight", "bias"])
    assert isinstance(heat.heatmap["values"]["buffer"], bytes)
    assert np.array_equal(shown(heat), mlp[0].weight.detach().numpy())
    assert heat.heatmap["min"] == mlp[0].weight.min().item()
    assert np.array_equal(decode_array(heat.colormap), diverging_lut())


def test_layer_and_parameter_switch(mlp):
    heat = nw.WeightHeatmap(mlp, layer="2")
    assert heat.heatmap["shape"] == [3, 8]
    heat.parameter = "bias"
    assert heat.heatmap["shape"] == [1, 3] and heat.heatmap["row_label"] == ""
    heat.layer = "0"
    assert heat.parameter == "weight" and heat.heatmap["layer"] == "0"


def test_zoom_gives_exact_values_and_reset():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(400, 600))
    heat = nw.WeightHeatmap(model, max_cells=2_000)
    assert heat.heatmap["block_rows"] > 1
    heat.region = [100, 140, 30, 70]
    assert heat.heatmap["block_rows"] == heat.heatmap["block_cols"] == 1
    assert np.array_equal(shown(heat), model[0].weight.detach().numpy()[100:140, 30:70])
    heat.region = []
    assert heat.heatmap["region"] == [0, 600, 0, 400]
    with pytest.raises(Exception, match="row0 < row1"):
        heat.region = [5, 5, 0, 1]


def test_layer_without_weights_and_buffers(mlp):
    heat = nw.WeightHeatmap(mlp, layer="1")
    assert heat.heatmap == {} and heat.message == "1 (ReLU) has no weights"
    bn = nn.Sequential(nn.BatchNorm1d(3, affine=False))
    assert "buffers: running_mean" in nw.WeightHeatmap(bn, layer="0").message
    assert "has no weights" in nw.WeightHeatmap(nn.Sequential()).message


def test_meta_device_message_then_recovery():
    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(3, 2))
    heat = nw.WeightHeatmap(model)
    assert "'meta' device" in heat.message and heat.heatmap == {}
    model.to_empty(device="cpu")
    with torch.no_grad():
        model[0].weight.fill_(0.5)
    _live.refresh_changed()
    assert heat.message == "" and shown(heat).tolist() == [[0.5] * 3] * 2


@pytest.mark.parametrize(("dtype", "wire"), [(torch.float16, "float32"), (torch.bfloat16, "float32"), (torch.float64, "float64")])
def test_dtypes(dtype, wire):
    model = nn.Sequential(nn.Linear(3, 2)).to(dtype)
    heat = nw.WeightHeatmap(model)
    assert heat.heatmap["values"]["dtype"] == wire
    assert heat.heatmap["dtype"] == str(dtype).removeprefix("torch.")
    assert np.array_equal(shown(heat), model[0].weight.detach().double().numpy())


def test_eight_k_square_payload_is_small_and_pooled_off_the_kernels_thread(monkeypatch):
    model = nn.Sequential(nn.Linear(8192, 8192, bias=False))
    release, threads = threading.Event(), []
    real = WeightPicture.run

    def gated(self, ins, version, job):
        if not self.region:  # the whole matrix: held until released
            threads.append(threading.current_thread().name)
            assert release.wait(10)
        return real(self, ins, version, job)

    monkeypatch.setattr(WeightPicture, "run", gated)
    heat = nw.WeightHeatmap(model)  # returns while the 67 M weights are pooled
    assert heat.busy and heat.status == "pooling 0.weight" and heat.heatmap == {}
    heat.region = [0, 64, 0, 64]  # a zoom meanwhile reads its 4,096 weights at once, and wins
    assert heat.heatmap["shape"] == [8192, 8192] and heat.heatmap["block_rows"] == 1 and not heat.busy
    heat.region = []
    release.set()
    heat.wait()
    assert threads and all(name == "nnwidgets-quick" for name in threads)
    assert len(heat.heatmap["values"]["buffer"]) <= 512 * 1024
    assert heat.heatmap["max"] == model[0].weight.max().item() and heat.heatmap["region"] == [0, 8192, 0, 8192]


def test_unknown_layer_and_parameter(mlp):
    with pytest.raises(ValueError, match="no layer named 'O'"):
        nw.WeightHeatmap(mlp, layer="O")
    with pytest.raises(ValueError, match="has no parameter 'gamma'"):
        nw.WeightHeatmap(mlp, layer="0", parameter="gamma")


def test_follows_training_steps(mlp):
    heat = nw.WeightHeatmap(mlp)
    before = shown(heat).copy()
    opt = torch.optim.SGD(mlp.parameters(), lr=1.0)
    mlp(torch.randn(16, 4)).pow(2).sum().backward()
    opt.step()
    assert heat.inspector.check_for_changes()
    assert not np.array_equal(shown(heat), before)
    assert np.array_equal(shown(heat), mlp[0].weight.detach().numpy())
    assert not heat.inspector.check_for_changes()


def test_figure_uses_the_same_data_and_colours(mlp):
    heat = nw.WeightHeatmap(mlp)
    fig = heat.figure()
    assert isinstance(fig, Figure)
    image = fig.axes[0].images[0]
    assert np.array_equal(image.get_array(), shown(heat))
    limit = max(abs(heat.heatmap["min"]), abs(heat.heatmap["max"]))
    assert image.get_clim() == (-limit, limit)
    assert np.allclose(image.cmap.colors, diverging_lut() / 255.0)


def test_layer_removed_from_the_live_model(mlp):
    heat = nw.WeightHeatmap(mlp, layer="2")
    del mlp[2]
    _live.refresh_changed()
    assert heat.heatmap == {} and "no layer named '2'" in heat.message
