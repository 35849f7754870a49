"""Cheap change detection for a live model, without copying its weights."""

from __future__ import annotations

from typing import Hashable

import torch
from torch import nn

_PROBE_POINTS = 16


def is_lazy(t: torch.Tensor) -> bool:
    """An ``UninitializedParameter``/``UninitializedBuffer`` of a lazy module (no shape, no values yet)."""
    return isinstance(t, nn.parameter.UninitializedTensorMixin)


def _probe(t: torch.Tensor) -> bytes:
    """A few strided values as bytes: catches writes through ``.data`` that skip version counters.
    Bytes, not a sum, so that a NaN weight compares equal to itself."""
    if is_lazy(t) or t.is_meta or t.numel() == 0 or not t.is_contiguous():
        return b""
    flat = t.detach().view(-1)
    step = max(1, flat.numel() // _PROBE_POINTS)
    return flat[::step][:_PROBE_POINTS].contiguous().view(torch.uint8).cpu().numpy().tobytes()


def _describe(t: torch.Tensor) -> tuple:
    if is_lazy(t):
        return ("lazy",)
    ptr = 0 if t.is_meta else t.data_ptr()
    return tuple(t.shape), str(t.dtype), str(t.device), ptr


def structure_key(model: nn.Module) -> Hashable:
    """What a read-only shadow of the model depends on: the module tree, and each parameter's and
    buffer's identity, shape, dtype, device and storage (``.to()`` or ``.data = …`` change it)."""
    parts: list[tuple] = [tuple((name, type(m).__name__, id(m)) for name, m in model.named_modules())]
    for kind, named in (("p", model.named_parameters(remove_duplicate=False)), ("b", model.named_buffers(remove_duplicate=False))):
        parts.extend((kind, name, id(t), *_describe(t)) for name, t in named if t is not None)
    return tuple(parts)


def weights_version(model: nn.Module) -> Hashable:
    """The autograd version counters of every parameter and buffer: bumped by optimiser steps and any
    in-place write that autograd sees. Cheap (no values read); misses writes through ``.data``."""
    return tuple(0 if is_lazy(t) else t._version for t in (*model.parameters(), *model.buffers()))


def model_signature(model: nn.Module) -> Hashable:
    """A value that changes whenever the model's structure or tensor contents change.

    Built from :func:`structure_key`, :func:`weights_version` and a 16-point probe of each tensor's
    values (writes through ``.data`` skip version counters). Equal for an unchanged model even when
    its weights hold NaN.

    >>> import torch
    >>> net = torch.nn.Linear(2, 1)
    >>> before = model_signature(net)
    >>> with torch.no_grad():
    ...     _ = net.weight.mul_(2)
    >>> model_signature(net) != before
    True
    >>> with torch.no_grad():
    ...     _ = net.bias.fill_(float("nan"))
    >>> model_signature(net) == model_signature(net)
    True
    """
    probes = tuple(_probe(t) for t in (*model.parameters(), *model.buffers()))
    return structure_key(model), weights_version(model), probes
