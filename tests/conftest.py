import time

import pytest
import torch
from torch import nn

_HOOK_DICTS = ("_forward_hooks", "_forward_hooks_with_kwargs", "_forward_hooks_always_called", "_forward_pre_hooks",
               "_forward_pre_hooks_with_kwargs", "_backward_hooks", "_backward_pre_hooks", "_state_dict_hooks",
               "_state_dict_pre_hooks", "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks")


def fingerprint(model: nn.Module) -> dict:
    """Everything a view must leave as it found: every parameter's and buffer's values (persistent or
    not) and version counter, flags, gradients and every hook registry."""
    tensors = {**dict(model.named_parameters(remove_duplicate=False)), **{f"buffer:{k}": v for k, v in model.named_buffers(remove_duplicate=False)}}
    return {
        "tensors": {k: v.detach().clone() for k, v in tensors.items()},
        "versions": {k: v._version for k, v in tensors.items()},
        "training": [m.training for m in model.modules()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "grads": [None if p.grad is None else (id(p.grad), p.grad.clone()) for p in model.parameters()],
        "hooks": [{a: list(getattr(m, a).items()) for a in _HOOK_DICTS if hasattr(m, a)} for m in model.modules()],
        "grad_mode": torch.is_grad_enabled(),
    }


def _bits(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(-1).contiguous().view(torch.uint8) if t.is_floating_point() else t


def assert_same_state(before: dict, after: dict) -> None:
    assert before["tensors"].keys() == after["tensors"].keys()
    for k in before["tensors"]:
        a, b = before["tensors"][k], after["tensors"][k]
        assert a.dtype == b.dtype and a.shape == b.shape, k
        assert torch.equal(_bits(a), _bits(b)), k  # bitwise: NaN equals NaN, -0.0 differs from 0.0
    for key in ("versions", "training", "requires_grad", "hooks", "grad_mode"):
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


@pytest.fixture
def no_model_moving():
    """Start once no model of an earlier test still trains as far as the live views know (its session
    ends a moment after its last step): the process has one live budget, and a test that counts live
    redraws must not share it with the last refreshes of another test's model."""
    from nnwidgets.core.live import ticker

    deadline = time.monotonic() + 30
    while ticker().any_moving() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not ticker().any_moving(), "an earlier test's model is still training"
