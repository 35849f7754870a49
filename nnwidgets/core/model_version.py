"""Cheap change detection for a live model, without copying its weights."""

from __future__ import annotations

from typing import Hashable

import torch
from torch import nn

_PROBE_POINTS = 16


def _probe(t: torch.Tensor) -> float:
    """A few strided values summed: catches writes through ``.data`` that skip version counters."""
    if t.is_meta or t.numel() == 0 or not t.is_contiguous():
        return 0.0
    flat = t.detach().view(-1)
    step = max(1, flat.numel() // _PROBE_POINTS)
    return float(flat[::step].double().sum())


def model_signature(model: nn.Module) -> Hashable:
    """A value that changes whenever the model's structure or tensor contents change.

    Built from the module tree's names and types, and from each parameter and buffer's name, shape, storage pointer and autograd version
    counter (bumped by optimiser steps and in-place ops), plus a 16-point probe of its values.

    >>> import torch
    >>> net = torch.nn.Linear(2, 1)
    >>> before = model_signature(net)
    >>> with torch.no_grad():
    ...     _ = net.weight.mul_(2)
    >>> model_signature(net) != before
    True
    """
    parts: list[tuple] = [tuple((name, type(m).__name__) for name, m in model.named_modules())]
    for kind, named in (("p", model.named_parameters()), ("b", model.named_buffers())):
        for name, t in named:
            if t is None:
                continue
            ptr = 0 if t.is_meta else t.data_ptr()
            parts.append((kind, name, tuple(t.shape), str(t.dtype), ptr, t._version, _probe(t)))
    return tuple(parts)
