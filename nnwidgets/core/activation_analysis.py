"""How each activation function is used over the data: the values going in (pre-activation) and
coming out, the function's curve over that range, and the share of dead/saturated units."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .activations import RECTIFIERS, bounds

BINS = 40
CURVE_POINTS = 101
NOT_ELEMENTWISE = (nn.MultiheadAttention, nn.Softmax, nn.LogSoftmax, nn.Softmin, nn.Softmax2d, nn.GLU)


@dataclass(frozen=True)
class ActivationUse:
    """One activation layer over the data: histograms of its input and output, its curve, flags.
    ``rows``: how many rows the histograms were drawn from; ``curve_note``: how the curve was taken."""

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
    rows: int
    curve_note: str = ""


def is_activation(module: nn.Module) -> bool:
    """An element-wise activation function from torch.nn (ReLU, GELU, Tanh, Sigmoid, ...)."""
    if isinstance(module, RECTIFIERS) or bounds(module) is not None:
        return True
    return type(module).__module__ == "torch.nn.modules.activation" and not isinstance(module, NOT_ELEMENTWISE)


def activation_layers(model: nn.Module) -> list[str]:
    """Names of the model's activation modules, in order."""
    return [name for name, m in model.named_modules() if is_activation(m)]


def curve(module: nn.Module, x: np.ndarray, channels: int, dtype: torch.dtype, device: torch.device) -> tuple[np.ndarray, str]:
    """The function's output over ``x``; for per-channel functions (``PReLU(n)``) the mean of the
    ``channels`` curves. Call on a shadow module: it runs the function."""
    grid = torch.as_tensor(x, dtype=torch.float32).to(dtype=dtype, device=device)
    with torch.no_grad():
        try:
            return module(grid).float().cpu().double().numpy(), ""
        except RuntimeError:
            per_channel = module(grid[:, None].expand(len(x), channels).contiguous())
        return per_channel.float().mean(dim=1).cpu().double().numpy(), f"mean of {channels} channels' curves"


def activation_use(name: str, module: nn.Module, pre: np.ndarray, post: np.ndarray, dead: np.ndarray,
                   saturated: np.ndarray, curve_y: tuple[np.ndarray, str] | None, curve_x: np.ndarray,
                   bins: int = BINS) -> ActivationUse:
    """Histograms of ``pre``/``post`` (sampled rows × units) and the flags' shares, for one layer."""
    pre_counts, pre_edges = np.histogram(pre, bins=bins)
    post_counts, post_edges = np.histogram(post, bins=bins)
    y, note = curve_y if curve_y is not None else (np.full(len(curve_x), np.nan), "the curve could not be evaluated")
    return ActivationUse(name, type(module).__name__, pre_edges, pre_counts, post_edges, post_counts, curve_x, y,
                         float(dead.mean()) if dead.size else 0.0, float(saturated.mean()) if saturated.size else 0.0,
                         int(pre.shape[0]), note)


def curve_grid(pre: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Where to draw a function's curve: across its inputs' histogram range."""
    lo, hi = (float(pre.min()), float(pre.max())) if pre.size else (-1.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, CURVE_POINTS)
