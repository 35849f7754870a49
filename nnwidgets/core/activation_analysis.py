"""How each activation function is used over a data set: the values going in (pre-activation)
and coming out, the function's curve over that range, and the share of dead/saturated units."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .activations import BOUNDED, RECTIFIERS, capture, unit_flags
from .model_access import model_access
from .tabular import model_dtype

BINS = 40
CURVE_POINTS = 101


@dataclass(frozen=True)
class ActivationUse:
    """One activation layer over the data: histograms of its input and output, its curve, flags."""

    name: str
    type: str
    pre_edges: np.ndarray
    pre_counts: np.ndarray
    post_edges: np.ndarray
    post_counts: np.ndarray
    curve_x: np.ndarray
    curve_y: np.ndarray
    dead_fraction: float
    saturated_fraction: float


NOT_ELEMENTWISE = (nn.MultiheadAttention, nn.Softmax, nn.LogSoftmax, nn.Softmin, nn.Softmax2d, nn.GLU)


def is_activation(module: nn.Module) -> bool:
    """An element-wise activation function from torch.nn (ReLU, GELU, Tanh, Sigmoid, ...)."""
    if isinstance(module, RECTIFIERS + tuple(BOUNDED)):
        return True
    return type(module).__module__ == "torch.nn.modules.activation" and not isinstance(module, NOT_ELEMENTWISE)


def activation_analysis(
    model: nn.Module, X: np.ndarray, preprocess: Callable[[np.ndarray], object] | None = None, bins: int = BINS
) -> list[ActivationUse]:
    """Capture every activation module's input and output over ``X`` (hooks always removed).

    >>> import torch, numpy as np
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh())
    >>> [(u.name, u.type, int(u.pre_counts.sum())) for u in activation_analysis(net, np.random.rand(10, 2))]
    [('1', 'Tanh', 40)]
    """
    modules = {name: m for name, m in model.named_modules() if is_activation(m)}
    captured = capture(model, X, list(modules), preprocess)
    dtype = model_dtype(model)
    uses = []
    with model_access(model):
        for name, (pre, post) in captured.items():
            module = modules[name]
            pre_counts, pre_edges = np.histogram(pre, bins=bins)
            post_counts, post_edges = np.histogram(post, bins=bins)
            curve_x = np.linspace(pre_edges[0], pre_edges[-1], CURVE_POINTS)
            curve_y = module(torch.as_tensor(curve_x, dtype=dtype)).detach().double().numpy()
            dead, saturated = unit_flags(module, post)
            uses.append(ActivationUse(name, type(module).__name__, pre_edges, pre_counts, post_edges, post_counts,
                                      curve_x, curve_y, float(dead.mean()), float(saturated.mean())))
    return uses
