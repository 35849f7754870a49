import pytest
import torch
from torch import nn


def fingerprint(model: nn.Module) -> dict:
    """Everything a widget must leave as it found: values, flags, grads and hooks."""
    return {
        "tensors": {k: v.detach().clone() for k, v in model.state_dict(keep_vars=True).items()},
        "training": [m.training for m in model.modules()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "grads": [None if p.grad is None else (id(p.grad), p.grad.clone()) for p in model.parameters()],
        "hooks": [
            {a: list(getattr(m, a).items()) for a in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks")}
            for m in model.modules()
        ],
        "versions": [p._version for p in model.parameters()],
        "grad_mode": torch.is_grad_enabled(),
    }


def assert_same_state(before: dict, after: dict) -> None:
    assert before["tensors"].keys() == after["tensors"].keys()
    for k in before["tensors"]:
        assert torch.equal(before["tensors"][k], after["tensors"][k]), k
    for key in ("training", "requires_grad", "hooks", "versions", "grad_mode"):
        assert before[key] == after[key], key
    for b, a in zip(before["grads"], after["grads"]):
        assert (b is None) == (a is None)
        if b is not None:
            assert b[0] == a[0] and torch.equal(b[1], a[1])


def busy_model() -> nn.Module:
    """A model in training mode with grads, frozen parts, hooks and buffers: easy to disturb."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Linear(6, 12), nn.BatchNorm1d(12), nn.ReLU(), nn.Dropout(0.5), nn.Linear(12, 3)
    ).train()
    net[1].eval()
    net(torch.randn(8, 6)).sum().backward()
    net[0].bias.requires_grad_(False)
    net[4].register_forward_hook(lambda *a: None)
    return net


@pytest.fixture
def mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


@pytest.fixture
def busy() -> nn.Module:
    return busy_model()
