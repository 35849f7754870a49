"""What each layer outputs: for one row, and over the data — units that never activate ("dead")
and units that sit at one of their function's bounds ("saturated")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

RECTIFIERS = (nn.ReLU, nn.ReLU6, nn.Hardswish, nn.SELU, nn.CELU, nn.ELU, nn.GELU, nn.SiLU, nn.Mish, nn.LeakyReLU, nn.PReLU, nn.RReLU)
SATURATION_MARGIN = 0.02
SATURATED_SHARE = 0.95


def bounds(module: nn.Module) -> tuple[float, float] | None:
    """The output range of a squashing activation, read from the module itself (``Hardtanh`` and
    ``ReLU6`` carry their own ``min_val``/``max_val``); None for unbounded layers.

    >>> bounds(nn.ReLU6()), bounds(nn.Hardtanh(-2.0, 3.0)), bounds(nn.Tanh()), bounds(nn.ReLU())
    ((0.0, 6.0), (-2.0, 3.0), (-1.0, 1.0), None)
    """
    if isinstance(module, nn.Hardtanh):  # ReLU6 is a Hardtanh(0, 6)
        return float(module.min_val), float(module.max_val)
    if isinstance(module, (nn.Sigmoid, nn.Hardsigmoid)):
        return 0.0, 1.0
    if isinstance(module, (nn.Tanh, nn.Softsign)):
        return -1.0, 1.0
    return None


def leaf_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Modules without children, in registration order (the model itself if it has none)."""
    leaves = [(n, m) for n, m in model.named_modules() if next(iter(m.children()), None) is None]
    return leaves or [("", model)]


def flatten_rows(t: torch.Tensor) -> np.ndarray:
    """A layer's output as rows × units (float32 on the CPU)."""
    return t.detach().float().reshape(t.shape[0], -1).cpu().numpy()


class UnitFlags:
    """Dead and saturated units of one layer, accumulated over chunks of rows."""

    def __init__(self, module: nn.Module) -> None:
        self.rectifier = isinstance(module, RECTIFIERS)
        self.bounds = bounds(module)
        self.rows = 0
        self.ever_positive: np.ndarray | None = None
        self.near_bound: np.ndarray | None = None

    def add(self, values: np.ndarray) -> None:
        if self.ever_positive is None:
            self.ever_positive = np.zeros(values.shape[1], bool)
            self.near_bound = np.zeros(values.shape[1], np.int64)
        if values.shape[1] != len(self.ever_positive):  # a layer whose width varies with the input
            return
        self.rows += len(values)
        if self.rectifier:
            self.ever_positive |= (values > 0).any(axis=0)
        if self.bounds is not None:
            lo, hi = self.bounds
            margin = SATURATION_MARGIN * (hi - lo)
            self.near_bound += ((values <= lo + margin) | (values >= hi - margin)).sum(axis=0)

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """``(dead, saturated)``: a rectifier unit never positive on any row; a bounded unit within 2 %
        of a bound on at least 95 % of rows."""
        units = 0 if self.ever_positive is None else len(self.ever_positive)
        dead = ~self.ever_positive if self.rectifier and units else np.zeros(units, bool)
        saturated = (self.near_bound / max(self.rows, 1) >= SATURATED_SHARE) if self.bounds is not None and units else np.zeros(units, bool)
        return dead, saturated


@dataclass(frozen=True)
class LayerActivity:
    """One layer's output for the current row (``values``, flattened) and its units' flags over the data.
    For pictures, a layer whose output has positions also has ``maps`` (channels, h, w; shrunk by ``block``
    from its output ``shape``, each channel's exact mean in ``means``) and ``dead``/``saturated`` are then
    per channel."""

    name: str
    type: str
    values: np.ndarray
    dead: np.ndarray
    saturated: np.ndarray
    maps: np.ndarray | None = None
    block: int = 1
    shape: tuple[int, ...] = ()
    means: np.ndarray | None = None


def layer_activity(
    model: nn.Module, outputs: dict[str, np.ndarray], flags: dict[str, tuple[np.ndarray, np.ndarray]] | None
) -> list[LayerActivity]:
    """Each leaf layer's output for one row (``outputs[name]``: 1 × units) with the unit ``flags``
    over the data (none yet: no unit flagged), in the model's order."""
    activity = []
    for name, module in leaf_layers(model):
        if name not in outputs:
            continue
        values = outputs[name][0]
        dead, saturated = (flags or {}).get(name, (np.zeros(len(values), bool), np.zeros(len(values), bool)))
        if len(dead) != len(values):
            dead = saturated = np.zeros(len(values), bool)
        activity.append(LayerActivity(name, type(module).__name__, values, dead, saturated))
    return activity
