"""One door to a live model: eval mode, no autograd, and everything put back on the way out."""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator

import torch
from torch import nn

# Every per-module hook registry torch keeps; each is an OrderedDict we snapshot and restore.
_HOOK_DICTS = (
    "_forward_hooks",
    "_forward_hooks_with_kwargs",
    "_forward_hooks_always_called",
    "_forward_pre_hooks",
    "_forward_pre_hooks_with_kwargs",
    "_backward_hooks",
    "_backward_pre_hooks",
    "_state_dict_hooks",
    "_state_dict_pre_hooks",
    "_load_state_dict_pre_hooks",
    "_load_state_dict_post_hooks",
)


_locks: "weakref.WeakKeyDictionary[nn.Module, threading.RLock]" = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


def _lock_for(model: nn.Module) -> threading.RLock:
    with _locks_guard:
        lock = _locks.get(model)
        if lock is None:
            lock = _locks[model] = threading.RLock()
        return lock


def ensure_module(model: object) -> nn.Module:
    """Return ``model`` if it is a ``torch.nn.Module``, else raise a ``TypeError`` saying so."""
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"expected a torch.nn.Module, got {type(model).__module__}.{type(model).__qualname__}"
        )
    return model


@contextlib.contextmanager
def model_access(model: nn.Module, *, grad: bool = False) -> Iterator[nn.Module]:
    """Use ``model`` in eval mode (without autograd unless ``grad=True``), then restore it exactly.

    On exit, even after an error, every module's ``training`` flag, every parameter's
    ``requires_grad`` and ``.grad`` object, and every hook registry are as they were on entry.
    Threads take turns (a re-entrant lock per model): two overlapping accesses would otherwise
    each save the other's eval state and leave the model in eval mode.

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout()).train()
    >>> with model_access(net) as m:
    ...     _ = m(torch.ones(1, 2))
    >>> net.training
    True
    """
    ensure_module(model)
    with _lock_for(model):
        yield from _restoring(model, grad)


def _restoring(model: nn.Module, grad: bool) -> Iterator[nn.Module]:
    modules = list(model.modules())
    params = list(model.parameters())
    training = [m.training for m in modules]
    requires_grad = [p.requires_grad for p in params]
    grads = [p.grad for p in params]
    hooks = [
        {attr: dict(getattr(m, attr)) for attr in _HOOK_DICTS if hasattr(m, attr)}
        for m in modules
    ]
    try:
        model.eval()
        with torch.set_grad_enabled(grad):
            yield model
    finally:
        for module, was_training in zip(modules, training):
            module.training = was_training
        for param, flag, g in zip(params, requires_grad, grads):
            if param.requires_grad != flag:
                param.requires_grad_(flag)
            if param.grad is not g:
                param.grad = g
        for module, saved in zip(modules, hooks):
            for attr, entries in saved.items():
                registry = getattr(module, attr)
                if dict(registry) != entries:
                    registry.clear()
                    registry.update(entries)
