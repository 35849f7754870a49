"""Every layer's output for given inputs (forward hooks, always removed), and units that never
activate ("dead") or sit at their bounds ("saturated") over a data set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .model_access import model_access
from .tabular import forward

# Output bounds of squashing activations; a unit near a bound on most rows is saturated.
BOUNDED = {nn.Sigmoid: (0.0, 1.0), nn.Tanh: (-1.0, 1.0), nn.Hardtanh: (-1.0, 1.0), nn.Softsign: (-1.0, 1.0)}
RECTIFIERS = (nn.ReLU, nn.ReLU6, nn.Hardswish, nn.SELU, nn.CELU, nn.ELU, nn.GELU, nn.SiLU, nn.Mish, nn.LeakyReLU)
SATURATION_MARGIN = 0.02
SATURATED_SHARE = 0.95


@dataclass(frozen=True)
class LayerActivity:
    """One layer's output: ``values`` (rows × units, flattened per row) and per-unit flags."""

    name: str
    type: str
    values: np.ndarray
    dead: np.ndarray
    saturated: np.ndarray


def leaf_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Modules without children, in registration order (the model itself if it has none)."""
    leaves = [(n, m) for n, m in model.named_modules() if next(iter(m.children()), None) is None]
    return leaves or [("", model)]


def _first_tensor(value: object) -> torch.Tensor | None:
    while isinstance(value, (tuple, list)) and value:
        value = value[0]
    return value if isinstance(value, torch.Tensor) else None


def capture(
    model: nn.Module, rows: np.ndarray, names: list[str], preprocess: Callable[[np.ndarray], object] | None = None
) -> dict[str, tuple[np.ndarray | None, np.ndarray]]:
    """``(input, output)`` of each named module for ``rows`` in one forward pass, flattened to
    rows × units (the first tensor where a module takes or returns several).

    Hooks are registered inside :func:`model_access` and removed on the way out, error or not.
    """
    captured: dict[str, tuple[np.ndarray | None, np.ndarray]] = {}
    flat = lambda t: t.detach().float().reshape(t.shape[0], -1).cpu().numpy()  # noqa: E731

    def keep(name: str):
        def hook(_module, inputs, output):
            first_in, out = _first_tensor(inputs), _first_tensor(output)
            if out is not None:
                captured[name] = (None if first_in is None else flat(first_in), flat(out))
        return hook

    modules = dict(model.named_modules())
    with model_access(model):
        handles = [modules[name].register_forward_hook(keep(name)) for name in names]
        try:
            forward(model, rows, preprocess)
        finally:
            for handle in handles:
                handle.remove()
    return captured


def record_outputs(
    model: nn.Module, rows: np.ndarray, preprocess: Callable[[np.ndarray], object] | None = None
) -> dict[str, np.ndarray]:
    """The output of every leaf layer for ``rows`` (one forward pass), flattened to rows × units."""
    names = [name for name, _ in leaf_layers(model)]
    return {name: out for name, (_, out) in capture(model, rows, names, preprocess).items()}


def unit_flags(module: nn.Module, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``dead``: a rectifier's unit that is never positive on any row; ``saturated``: a squashing
    unit within 2 % of a bound on at least 95 % of rows. Other layers get no flags."""
    units = values.shape[1]
    dead = np.zeros(units, bool)
    saturated = np.zeros(units, bool)
    if isinstance(module, RECTIFIERS):
        dead = (values <= 0).all(axis=0)
    for kind, (lo, hi) in BOUNDED.items():
        if isinstance(module, kind):
            margin = SATURATION_MARGIN * (hi - lo)
            near = (values <= lo + margin) | (values >= hi - margin)
            saturated = near.mean(axis=0) >= SATURATED_SHARE
    return dead, saturated


def dataset_flags(
    model: nn.Module, X: np.ndarray, preprocess: Callable[[np.ndarray], object] | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``(dead, saturated)`` per leaf layer, from one forward pass over ``X``."""
    modules = dict(leaf_layers(model))
    return {name: unit_flags(modules[name], values) for name, values in record_outputs(model, X, preprocess).items()}


def layer_activity(
    model: nn.Module,
    row_values: np.ndarray,
    flags: dict[str, tuple[np.ndarray, np.ndarray]],
    preprocess: Callable[[np.ndarray], object] | None = None,
) -> list[LayerActivity]:
    """Each leaf layer's output for one row, with the unit ``flags`` from :func:`dataset_flags`.

    >>> import torch, numpy as np
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU())
    >>> flags = dataset_flags(net, np.ones((4, 2)))
    >>> [(a.name, a.values.shape) for a in layer_activity(net, np.ones(2), flags)]
    [('0', (1, 3)), ('1', (1, 3))]
    """
    current = record_outputs(model, np.asarray(row_values, dtype=np.float64)[None, :], preprocess)
    modules = dict(leaf_layers(model))
    activity = []
    for name, values in current.items():
        dead, saturated = flags.get(name, (np.zeros(values.shape[1], bool),) * 2)
        activity.append(LayerActivity(name, type(modules[name]).__name__, values, dead, saturated))
    return activity
