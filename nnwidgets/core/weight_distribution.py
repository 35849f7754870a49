"""Histograms of each layer's weights and biases beside the initial distributions that its
fan-in and fan-out imply (Xavier/Glorot and He/Kaiming, normal variants)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from torch import nn

from .weight_matrix import tensor_to_numpy

BINS = 40
BIAS_BINS = 20


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Fan-in and fan-out of a weight (out, in, *kernel), as torch.nn.init computes them."""
    receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def init_stds(fan_in: int, fan_out: int) -> dict[str, float]:
    """Standard deviations of the common initialisations for these fans.

    >>> {k: round(v, 4) for k, v in init_stds(100, 50).items()}
    {'Glorot': 0.1155, 'He': 0.1414}
    """
    return {"Glorot": math.sqrt(2.0 / (fan_in + fan_out)), "He": math.sqrt(2.0 / fan_in)}


@dataclass(frozen=True)
class Distribution:
    """One layer: weight histogram (``edges``, ``counts``), bias histogram (or None), and the
    expected count per bin under each initialisation (``expected[name]``) for the same edges."""

    name: str
    type: str
    fan_in: int
    fan_out: int
    edges: np.ndarray
    counts: np.ndarray
    std: float
    expected: dict[str, np.ndarray]
    bias_edges: np.ndarray | None
    bias_counts: np.ndarray | None

    @property
    def expected_std(self) -> dict[str, float]:
        return init_stds(self.fan_in, self.fan_out)


def _normal_cdf(x: np.ndarray, std: float) -> np.ndarray:
    from scipy.special import ndtr

    return ndtr(x / std)


def layer_distribution(name: str, module: nn.Module, bins: int = BINS) -> Distribution | None:
    """The distribution of ``module.weight`` (2-D or more) and ``module.bias``; None without them."""
    weight = getattr(module, "weight", None)
    if not isinstance(weight, nn.Parameter) or weight.dim() < 2:
        return None
    values = tensor_to_numpy(weight, f"{name}.weight").ravel()
    fan_in, fan_out = fans(tuple(weight.shape))
    stds = init_stds(fan_in, fan_out)
    reach = max(float(np.abs(values).max()), 3 * max(stds.values()))
    counts, edges = np.histogram(values, bins=bins, range=(-reach, reach))
    expected = {k: values.size * np.diff(_normal_cdf(edges, s)) for k, s in stds.items()}
    bias = getattr(module, "bias", None)
    bias_edges = bias_counts = None
    if isinstance(bias, nn.Parameter) and bias.numel() > 0 and not bias.is_meta:
        bias_counts, bias_edges = np.histogram(tensor_to_numpy(bias, f"{name}.bias").ravel(), bins=BIAS_BINS)
    return Distribution(name, type(module).__name__, fan_in, fan_out, edges, counts, float(values.std()), expected,
                        bias_edges, bias_counts)


def weight_distributions(model: nn.Module, bins: int = BINS) -> list[Distribution]:
    """One :class:`Distribution` per module with a weight matrix, in model order.

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(100, 50), torch.nn.ReLU(), torch.nn.Linear(50, 2))
    >>> [(d.name, d.fan_in, d.fan_out, int(d.counts.sum())) for d in weight_distributions(net)]
    [('0', 100, 50, 5000), ('2', 50, 2, 100)]
    """
    found = (layer_distribution(name, module, bins) for name, module in model.named_modules())
    return [d for d in found if d is not None]
