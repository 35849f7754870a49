"""A read-only shadow of a live model: the same weights (shared storage, never copied), its own
everything else. Background work runs the shadow, so the user's model never changes under them:
no ``training`` flag, ``requires_grad``, ``.grad``, hook or buffer of theirs is touched, even while
their own code trains it in the same cell or in a thread."""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Hashable

import torch
from torch import nn

from .model_version import is_lazy, structure_key

_HOOK_DICTS = (
    "_forward_hooks",
    "_forward_hooks_with_kwargs",
    "_forward_hooks_always_called",
    "_forward_pre_hooks",
    "_forward_pre_hooks_with_kwargs",
    "_backward_hooks",
    "_backward_pre_hooks",
)
_MODULE_INTERNALS = {"_parameters", "_buffers", "_modules", "training", *_HOOK_DICTS}
ALWAYS_COPIED = 65_536
_COPIED = (nn.Module, torch.Tensor, list, tuple, dict, set, str, bytes, int, float, bool, complex, type(None))


class ShadowError(ValueError):
    """The model cannot be run in the background as it is (lazy or meta weights, uncopyable parts)."""


def check_runnable(model: nn.Module, *, values: bool = True) -> None:
    """Raise a :class:`ShadowError` naming the first parameter that cannot be computed with: one of a
    lazy module that has not seen data, or (with ``values``) one on the meta device."""
    for name, t in (*model.named_parameters(), *model.named_buffers()):
        if is_lazy(t):
            raise ShadowError(
                f"{name} belongs to a lazy module (e.g. nn.LazyLinear) that has not seen data yet: "
                "run one batch through the model first, then build the view"
            )
        if values and t.is_meta:
            raise ShadowError(f"{name} is on the 'meta' device and has no values: load real weights first")


def _user_instrumentation(hook: Any, modules: set[int]) -> bool:
    """A hook written in the notebook (``__main__``) that is not a method of the model's own modules:
    the user's instrumentation (e.g. appending activations to a list), not part of what the model computes."""
    owner = getattr(hook, "__self__", None)
    if owner is not None and id(owner) in modules:
        return False
    target = getattr(hook, "func", hook)
    target = getattr(target, "__func__", target)
    return getattr(target, "__module__", None) == "__main__"


def _left_out(*_: Any) -> None:
    """Stands in, during the copy, for a hook the shadow leaves out (it is then removed)."""


def _memo(model: nn.Module) -> dict[int, Any]:
    """Parameters map to detached aliases (same storage, no grad); tensors computed from them (old-style
    weight norm) to detached aliases; other opaque attributes (a trainer, a dataset) are shared, not copied.
    Hooks are never deep-copied: the user's notebook hooks are left out (their owners — a recorder with a
    lock or 400 MB of recordings — are not copied either), others are shared, except the model's own
    bound methods, which the copy rebinds to the shadow's modules."""
    memo: dict[int, Any] = {}
    modules = {id(m) for m in model.modules()}
    for p in model.parameters():
        memo[id(p)] = nn.Parameter(p.detach(), requires_grad=False)
    for module in model.modules():
        for attr in _HOOK_DICTS:
            for hook in (getattr(module, attr, None) or {}).values():
                if _user_instrumentation(hook, modules):
                    memo[id(hook)] = _left_out
                elif id(getattr(hook, "__self__", None)) not in modules:
                    memo[id(hook)] = hook
        for name, value in vars(module).items():
            if name in _MODULE_INTERNALS:
                continue
            if isinstance(value, torch.Tensor):
                if not value.is_leaf:
                    memo[id(value)] = value.detach()
            elif not isinstance(value, _COPIED):
                memo[id(value)] = value
    return memo


def build_shadow(model: nn.Module) -> nn.Module:
    """The shadow tree: eval mode, no parameter needs a gradient, buffers are its own copies.

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout()).train()
    >>> shadow = build_shadow(net)
    >>> shadow[0].weight.data_ptr() == net[0].weight.data_ptr(), shadow.training, net.training
    (True, False, True)
    """
    check_runnable(model, values=False)
    try:
        shadow = copy.deepcopy(model, _memo(model))
    except Exception as error:  # an attribute deepcopy cannot handle
        raise ShadowError(f"nnwidgets could not make a read-only shadow of this model to compute with: {error}") from None
    for module in shadow.modules():
        module.training = False
        for attr in _HOOK_DICTS:
            registry = getattr(module, attr, None)
            if registry:
                for key in [k for k, hook in registry.items() if hook is _left_out]:
                    del registry[key]
    return shadow


@dataclass
class _ThreadShadow:
    module: nn.Module
    structure: Hashable
    version: int
    buffers: list[tuple[torch.Tensor, torch.Tensor]]
    seen: list[tuple[int, int]] = field(default_factory=list)


class ShadowModel:
    """One shadow per thread (each worker runs its own, so hooks and buffer writes never cross),
    rebuilt when the model's structure changed, its buffers re-synced from the live model before use.

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2)).train()
    >>> shadows = ShadowModel(net)
    >>> with shadows.use(version=0) as m:
    ...     _ = m(torch.ones(3, 2))
    >>> net.training, net[1].num_batches_tracked.item()
    (True, 0)
    """

    def __init__(self, model: nn.Module) -> None:
        self._model = model
        self._local = threading.local()

    def _current(self, version: int) -> _ThreadShadow:
        shadow: _ThreadShadow | None = getattr(self._local, "shadow", None)
        if shadow is not None and shadow.version == version:
            return shadow
        structure = structure_key(self._model)
        if shadow is None or shadow.structure != structure:
            module = build_shadow(self._model)
            live = [b for _, b in self._model.named_buffers(remove_duplicate=False)]
            own = [b for _, b in module.named_buffers(remove_duplicate=False)]
            shadow = _ThreadShadow(module, structure, version, list(zip(live, own)))
            self._local.shadow = shadow
        shadow.seen = [(-1, -1)] * len(shadow.buffers)  # a new model version: copy every buffer once
        shadow.version = version
        return shadow

    @contextlib.contextmanager
    def use(self, version: int, grad: bool = False) -> Iterator[nn.Module]:
        """This thread's shadow, its buffers equal to the live model's, autograd on only if ``grad``."""
        shadow = self._current(version)
        with torch.no_grad():
            for i, (live, own) in enumerate(shadow.buffers):
                # Some kernels (fused fake-quantisation observers) write buffers without bumping their
                # version counters: small buffers are copied every time, large ones when a counter moved.
                if own.numel() <= ALWAYS_COPIED or shadow.seen[i] != (live._version, own._version):
                    own.copy_(live)
                    shadow.seen[i] = (live._version, own._version)
        with torch.set_grad_enabled(grad):
            yield shadow.module
