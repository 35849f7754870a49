"""First-layer weights as images: each hidden unit's incoming weights drawn as an h×w tile."""

from __future__ import annotations

import math

import numpy as np
from torch import nn

from .layer_table import resolve_layer
from .weight_matrix import tensor_to_numpy


def first_weight_layer(model: nn.Module) -> str:
    """The name of the first Linear or single-channel Conv2d layer, the one that sees pixels."""
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) or (isinstance(module, nn.Conv2d) and module.in_channels == 1):
            return name
    raise ValueError("the model has no Linear or single-channel Conv2d layer whose weights could be drawn as images")


def weight_tiles(model: nn.Module, layer: str | None = None, input_shape: tuple[int, int] | None = None) -> tuple[str, np.ndarray]:
    """``(layer name, tiles)`` with ``tiles`` shaped units × h × w.

    A Linear layer's rows are reshaped to ``input_shape`` (inferred when its input size is a
    square number); a single-channel Conv2d gives one kernel per output channel.

    >>> import torch
    >>> name, tiles = weight_tiles(torch.nn.Sequential(torch.nn.Linear(64, 10)))
    >>> name, tiles.shape
    ('0', (10, 8, 8))
    """
    name = layer if layer is not None else first_weight_layer(model)
    module = resolve_layer(model, name)
    if isinstance(module, nn.Conv2d) and module.in_channels == 1:
        weight = tensor_to_numpy(module.weight, f"{name}.weight")
        return name, weight[:, 0]
    if not isinstance(module, nn.Linear):
        raise ValueError(f"layer {name!r} is a {type(module).__name__}; weight tiles need a Linear or single-channel Conv2d layer")
    weight = tensor_to_numpy(module.weight, f"{name}.weight")
    n_in = weight.shape[1]
    if input_shape is None:
        side = math.isqrt(n_in)
        if side * side != n_in:
            raise ValueError(f"layer {name!r} takes {n_in} inputs, not a square image: pass input_shape=(h, w)")
        input_shape = (side, side)
    h, w = input_shape
    if h * w != n_in:
        raise ValueError(f"input_shape {tuple(input_shape)} has {h * w} pixels but layer {name!r} takes {n_in} inputs")
    return name, weight.reshape(weight.shape[0], h, w)
