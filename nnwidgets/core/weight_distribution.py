"""Histograms of each layer's weights and biases beside the initial distributions that its
fan-in and fan-out imply: PyTorch's own default for the layer type (what an untrained layer
holds), and Xavier/Glorot and He/Kaiming (normal variants)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from torch import nn

from .model_version import is_lazy
from .weight_matrix import tensor_to_numpy

BINS = 40
BIAS_BINS = 20
DEFAULT = "PyTorch default"


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Fan-in and fan-out of a weight (out, in, *kernel), as torch.nn.init computes them."""
    receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def default_init(module: nn.Module, fan_in: int) -> tuple[str, float] | None:
    """PyTorch's own initialisation of ``module.weight``: ``("uniform", bound)`` for Linear and
    convolutions (kaiming_uniform with a=√5, i.e. ±1/√fan_in), ``("normal", std)`` for Embedding;
    None where the type has no single default.

    >>> default_init(nn.Linear(100, 3), 100)
    ('uniform', 0.1)
    """
    if isinstance(module, (nn.Linear, nn.Bilinear, nn.modules.conv._ConvNd)):
        return "uniform", 1.0 / math.sqrt(fan_in)
    if isinstance(module, nn.Embedding):
        return "normal", 1.0
    return None


def init_stds(fan_in: int, fan_out: int) -> dict[str, float]:
    """Standard deviations of the common initialisations for these fans.

    >>> {k: round(v, 4) for k, v in init_stds(100, 50).items()}
    {'Glorot': 0.1155, 'He': 0.1414}
    """
    return {"Glorot": math.sqrt(2.0 / (fan_in + fan_out)), "He": math.sqrt(2.0 / fan_in)}


@dataclass(frozen=True)
class Distribution:
    """One layer: weight histogram (``edges``, ``counts``), bias histogram (or None), and the
    expected count per bin under each initialisation (``expected[name]``, "PyTorch default" first
    where the layer type has one) for the same edges."""

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
    default: tuple[str, float] | None = None

    @property
    def expected_std(self) -> dict[str, float]:
        """Standard deviation of each initialisation drawn (a uniform ±b has b/√3)."""
        stds = {}
        if self.default is not None:
            shape, scale = self.default
            stds[DEFAULT] = scale / math.sqrt(3) if shape == "uniform" else scale
        return {**stds, **init_stds(self.fan_in, self.fan_out)}


def _normal_cdf(x: np.ndarray, std: float) -> np.ndarray:
    from scipy.special import ndtr

    return ndtr(x / std)


def _uniform_cdf(x: np.ndarray, bound: float) -> np.ndarray:
    return (np.clip(x, -bound, bound) + bound) / (2 * bound)



def layer_distribution(name: str, module: nn.Module, bins: int = BINS) -> Distribution | None:
    """The distribution of ``module.weight`` (2-D or more) and ``module.bias``; None without them."""
    weight = getattr(module, "weight", None)
    if not isinstance(weight, nn.Parameter) or is_lazy(weight) or weight.dim() < 2:
        return None
    values = tensor_to_numpy(weight, f"{name}.weight").ravel()
    fan_in, fan_out = fans(tuple(weight.shape))
    stds = init_stds(fan_in, fan_out)
    default = default_init(module, fan_in)
    reach = max(float(np.nanmax(np.abs(values))) if values.size else 0.0, 3 * max(stds.values()))
    if not np.isfinite(reach):
        raise ValueError(f"{name}.weight holds inf values; no histogram can be drawn")
    counts, edges = np.histogram(values[np.isfinite(values)], bins=bins, range=(-reach, reach))
    expected = {}
    if default is not None:
        shape, scale = default
        cdf = _uniform_cdf(edges, scale) if shape == "uniform" else _normal_cdf(edges, scale)
        expected[DEFAULT] = values.size * np.diff(cdf)
    expected.update({k: values.size * np.diff(_normal_cdf(edges, s)) for k, s in stds.items()})
    bias = getattr(module, "bias", None)
    bias_edges = bias_counts = None
    if isinstance(bias, nn.Parameter) and bias.numel() > 0 and not bias.is_meta:
        bias_values = tensor_to_numpy(bias, f"{name}.bias").ravel()
        bias_counts, bias_edges = np.histogram(bias_values[np.isfinite(bias_values)], bins=BIAS_BINS)
    return Distribution(name, type(module).__name__, fan_in, fan_out, edges, counts, float(np.nanstd(values)), expected,
                        bias_edges, bias_counts, default)


def weight_distributions(model: nn.Module, bins: int = BINS) -> tuple[list[Distribution], list[str]]:
    """One :class:`Distribution` per module with a weight matrix, in model order, and a message for
    each layer whose weights have no values to draw (on the meta device, say).

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(100, 50), torch.nn.ReLU(), torch.nn.Linear(50, 2))
    >>> found, skipped = weight_distributions(net)
    >>> [(d.name, d.fan_in, d.fan_out, int(d.counts.sum())) for d in found], skipped
    ([('0', 100, 50, 5000), ('2', 50, 2, 100)], [])
    """
    found, skipped = [], []
    for name, module in model.named_modules():
        try:
            d = layer_distribution(name, module, bins)
        except ValueError as error:
            skipped.append(str(error))
            continue
        if d is not None:
            found.append(d)
    return found, skipped
