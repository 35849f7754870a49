import math

import numpy as np
import pytest
import torch
from torch import nn

import nnwidgets as nw
from nnwidgets.core import decode_array
from nnwidgets.core.weight_distribution import fans, init_stds, layer_distribution, weight_distributions


def test_fans_match_torch():
    for shape in [(50, 100), (8, 3, 5, 5), (4, 2, 3)]:
        assert fans(shape) == nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_expected_counts_match_sampled_initialisations():
    torch.manual_seed(0)
    layer = nn.Linear(400, 300)
    nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")  # He normal: std sqrt(2 / fan_in)
    d = layer_distribution("fc", layer)
    assert d.std == pytest.approx(math.sqrt(2 / 400), rel=0.02)
    assert d.expected["He"].sum() == pytest.approx(layer.weight.numel(), rel=1e-3)
    # the He curve describes this histogram: small total variation between counts and expectation
    assert np.abs(d.counts - d.expected["He"]).sum() / d.counts.sum() < 0.05
    assert np.abs(d.counts - d.expected["Glorot"]).sum() / d.counts.sum() > 0.1
    nn.init.xavier_normal_(layer.weight)
    d = layer_distribution("fc", layer)
    assert np.abs(d.counts - d.expected["Glorot"]).sum() / d.counts.sum() < 0.05
    assert d.counts.sum() == 120_000 and d.bias_counts.sum() == 300


def test_only_weight_matrices_and_bias_optional():
    net = nn.Sequential(nn.Embedding(10, 4), nn.LayerNorm(4), nn.Linear(4, 2, bias=False))
    found, skipped = weight_distributions(net)
    assert skipped == [] and [d.name for d in found] == ["0", "2"] and found[1].bias_counts is None
    assert init_stds(10, 4)["He"] == pytest.approx(math.sqrt(0.2))


def test_widget_payload_message_and_training():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(20, 10), nn.ReLU(), nn.Linear(10, 2, bias=False))
    dist = nw.WeightDistributions(net).wait()
    p = dist.distributions
    assert p["names"] == ["0", "2"]
    assert decode_array(p["fans"]).tolist() == [[20, 10], [10, 2]]
    assert decode_array(p["counts"]).sum(axis=1).tolist() == [200, 20]
    assert np.isnan(decode_array(p["bias_counts"])[1]).all()
    before = decode_array(p["stds"])[0, 0]
    with torch.no_grad():
        net[0].weight.mul_(3)
    assert dist.inspector.check_for_changes()
    dist.wait()
    assert decode_array(dist.distributions["stds"])[0, 0] == pytest.approx(3 * before, rel=1e-5)
    assert len(dist.figure().axes) == 2
    assert "no weight matrices" in nw.WeightDistributions(nn.Sequential(nn.ReLU())).wait().message
    with torch.device("meta"):
        meta = nn.Sequential(nn.Linear(3, 3))
    assert "'meta' device" in nw.WeightDistributions(meta).wait().message


def test_an_untrained_layer_matches_pytorchs_own_default_initialisation():
    """A fresh nn.Linear holds torch's default init (uniform ±1/√fan_in): its histogram must sit on the
    default curve, not look "far from init" as it does against Glorot or He."""
    torch.manual_seed(0)
    layer = nn.Linear(400, 300)
    d = layer_distribution("fc", layer)
    gap = {k: np.abs(d.counts - e).sum() / d.counts.sum() for k, e in d.expected.items()}
    assert list(d.expected) == ["PyTorch default", "Glorot", "He"]
    assert gap["PyTorch default"] < 0.05 < gap["Glorot"] and gap["He"] > 0.05
    assert d.expected_std["PyTorch default"] == pytest.approx(layer.weight.std().item(), rel=0.02)
    conv = nn.Conv2d(3, 16, 5)
    dc = layer_distribution("conv", conv)
    assert np.abs(dc.counts - dc.expected["PyTorch default"]).sum() / dc.counts.sum() < 0.1
    emb = layer_distribution("emb", nn.Embedding(2000, 64))
    assert np.abs(emb.counts - emb.expected["PyTorch default"]).sum() / emb.counts.sum() < 0.05
