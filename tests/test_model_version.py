import torch
from torch import nn

from nnwidgets.core import model_access, model_signature


def test_unchanged_by_reading(mlp):
    before = model_signature(mlp)
    with model_access(mlp):
        mlp(torch.randn(3, 4))
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
    assert model_signature(nn.Sequential()) == model_signature(nn.Sequential())


def test_changes_when_a_parameterless_layer_is_added(mlp):
    before = model_signature(mlp)
    mlp.append(nn.Softmax(dim=-1))
    assert model_signature(mlp) != before
