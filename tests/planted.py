"""Models whose outputs are known exactly, for tests against analytic truth."""

import threading

import numpy as np
import torch
from torch import nn


class Planted(nn.Module):
    """logit(class 1) = 3·x0 − 2·x2 (features 1, 3, 4 are ignored); or that value for regression."""

    def __init__(self, classes: int = 2) -> None:
        super().__init__()
        self.classes = classes
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.scale * (3 * x[:, 0] - 2 * x[:, 2])
        if self.classes == 1:
            return z[:, None]
        return torch.stack([torch.zeros_like(z), z], dim=1)


class Additive(nn.Module):
    """y = sin(2·x0) + 0.5·x1² : additive, non-linear, features 2.. ignored."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (torch.sin(2 * x[:, 0]) + 0.5 * x[:, 1] ** 2)[:, None]


def linear(weights, bias=0.0, dtype=torch.float32) -> nn.Linear:
    """A Linear layer with exactly these weights (one output per row of ``weights``)."""
    w = torch.as_tensor(np.atleast_2d(weights), dtype=dtype)
    layer = nn.Linear(w.shape[1], w.shape[0]).to(dtype)
    with torch.no_grad():
        layer.weight.copy_(w)
        layer.bias.fill_(bias)
    return layer


class Counted(nn.Module):
    """Wraps a model and records the batch size of every forward pass. The log lives on the class
    (shared by copies such as nnwidgets' read-only shadow), so it counts every pass made."""

    log: list = []
    lock = threading.Lock()

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with Counted.lock:
            Counted.log.append(len(x))
        return self.inner(x)


class Slow(nn.Module):
    """A Linear → Dropout → Linear model whose forward waits on ``gate`` (a class attribute, shared by
    shadows) when ``gate`` is set, so a test can keep background work running while it trains."""

    gate: threading.Event | None = None
    entered = threading.Event()

    def __init__(self, features: int = 5, classes: int = 2) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(features, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if Slow.gate is not None and not torch.is_grad_enabled() and len(x) > 50:
            Slow.entered.set()
            Slow.gate.wait(30)
        return self.body(x)


def data(rows: int = 400, features: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, features))
