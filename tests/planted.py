"""Models whose output depends only on known features, for faithfulness tests."""

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


def data(rows: int = 400, features: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, features))
