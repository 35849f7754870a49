import torch
from torch import nn

import numpy as np

import nnwidgets as nw
from nnwidgets.core import model_signature


def test_unchanged_by_every_view_reading_it(mlp):
    before = model_signature(mlp)
    nw.Dashboard(mlp, np.random.default_rng(0).normal(size=(40, 4))).wait()
    assert model_signature(mlp) == before


def test_changes_after_optimiser_steps(mlp):
    for opt in (torch.optim.SGD(mlp.parameters(), lr=0.1), torch.optim.Adam(mlp.parameters())):
        before = model_signature(mlp)
        mlp(torch.randn(5, 4)).pow(2).sum().backward()
        opt.step()
        assert model_signature(mlp) != before


def test_changes_after_writes_through_data(mlp):
    before = model_signature(mlp)
    mlp[0].weight.data.mul_(2)  # .data skips autograd's version counter; the value probe sees it
    assert model_signature(mlp) != before


def test_changes_after_load_state_dict_and_structure(mlp):
    before = model_signature(mlp)
    mlp.load_state_dict({k: torch.zeros_like(v) for k, v in mlp.state_dict().items()})
    after_load = model_signature(mlp)
    assert after_load != before
    mlp.append(nn.Linear(3, 1))
    assert model_signature(mlp) != after_load


def test_meta_and_empty_models_have_signatures():
    with torch.device("meta"):
        meta = nn.Linear(3, 3)
    assert model_signature(meta) == model_signature(meta)
    empty = nn.Sequential()
    assert model_signature(empty) == model_signature(empty)


def test_changes_when_a_parameterless_layer_is_added(mlp):
    before = model_signature(mlp)
    mlp.append(nn.Softmax(dim=-1))
    assert model_signature(mlp) != before


def test_a_nan_weight_compares_equal_to_itself(mlp):
    with torch.no_grad():
        mlp[0].weight[0, 0] = float("nan")
    assert model_signature(mlp) == model_signature(mlp)


def test_bfloat16_and_lazy_models_have_signatures():
    model = nn.Sequential(nn.Linear(3, 3)).to(torch.bfloat16)
    assert model_signature(model) == model_signature(model)
    lazy = nn.Sequential(nn.LazyLinear(2))
    assert model_signature(lazy) == model_signature(lazy)
