"""Hearing a model's optimizer steps without touching the model or the optimizer.

torch calls global step hooks (``torch.optim.optimizer.register_optimizer_step_pre_hook`` and
``..._post_hook``) around every ``optimizer.step()``. They are registered once, here, and live in torch's
module, not on the user's optimizer: its ``state_dict``, its own hooks and its parameters are untouched.
Each step asks which listening models own a parameter the optimizer updates (cached per optimizer), so a
step of an optimizer nobody listens to costs a dictionary lookup."""

from __future__ import annotations

import threading
import warnings
import weakref
from collections.abc import Callable
from typing import Any, Protocol

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook
from torch import nn


class StepListener(Protocol):
    def before_step(self, optimizer: torch.optim.Optimizer) -> None: ...

    def after_step(self, optimizer: torch.optim.Optimizer) -> None: ...


_lock = threading.Lock()
_listeners: dict[int, tuple[weakref.ref, weakref.ref]] = {}  # id(listener) -> (model, listener)
_generation = 0
_by_optimizer: "weakref.WeakKeyDictionary[torch.optim.Optimizer, tuple[int, int, list[weakref.ref]]]" = weakref.WeakKeyDictionary()
_handles: list[Any] = []


def on_steps(model: nn.Module, listener: StepListener) -> Callable[[], None]:
    """Call ``listener.before_step(optimizer)`` and ``listener.after_step(optimizer)`` around every
    ``optimizer.step()`` that updates a parameter of ``model``, on the thread that steps. Model and
    listener are held weakly. Returns a function that stops listening. A listener that raises is
    reported as a warning; the step goes on.

    >>> import torch
    >>> net = torch.nn.Linear(2, 1)
    >>> class Count:
    ...     n = 0
    ...     def before_step(self, optimizer): pass
    ...     def after_step(self, optimizer): self.n += 1
    >>> counter = Count()
    >>> stop = on_steps(net, counter)
    >>> opt = torch.optim.SGD(net.parameters(), lr=0.1)
    >>> net(torch.ones(1, 2)).sum().backward(); opt.step()
    >>> counter.n
    1
    >>> stop()
    """
    global _generation
    with _lock:
        _install()
        key = id(listener)
        _listeners[key] = (weakref.ref(model), weakref.ref(listener, lambda _, k=key: _forget(k)))
        _generation += 1

    def stop() -> None:
        _forget(key)

    return stop


def _forget(key: int) -> None:
    global _generation
    with _lock:
        if _listeners.pop(key, None) is not None:
            _generation += 1


def _install() -> None:
    if not _handles:
        _handles.append(register_optimizer_step_pre_hook(_before))
        _handles.append(register_optimizer_step_post_hook(_after))


def _param_count(optimizer: torch.optim.Optimizer) -> int:
    return sum(len(group["params"]) for group in optimizer.param_groups)


def listeners_of(optimizer: torch.optim.Optimizer) -> list[StepListener]:
    """The listeners whose model has a parameter that ``optimizer`` updates."""
    return _alive(_listener_refs(optimizer))


def _alive(refs: list[weakref.ref]) -> list[StepListener]:
    return [listener for ref in refs if (listener := ref()) is not None]


def _listener_refs(optimizer: torch.optim.Optimizer) -> list[weakref.ref]:
    count = _param_count(optimizer)
    cached = _by_optimizer.get(optimizer)
    if cached is None or cached[0] != _generation or cached[1] != count:
        with _lock:
            entries = list(_listeners.values())
            generation = _generation
        ids = {id(p) for group in optimizer.param_groups for p in group["params"]}
        found = []
        for model_ref, listener_ref in entries:
            model = model_ref()
            if model is not None and any(id(p) in ids for p in model.parameters()):
                found.append(listener_ref)
        cached = (generation, count, found)
        try:
            _by_optimizer[optimizer] = cached
        except TypeError:  # an optimizer that cannot be weakly referenced: look it up each step
            pass
    return cached[2]


_stepping = threading.local()  # the optimizer whose step is under way on this thread, and its listeners (weakly)


def _call(optimizer: torch.optim.Optimizer, method: str) -> None:
    if not _listeners:
        return
    if method == "before_step":
        refs = _listener_refs(optimizer)
        _stepping.step = (id(optimizer), _generation, refs)
    else:  # the after-hook of the step the before-hook looked up (a step is one call on one thread)
        last = getattr(_stepping, "step", None)
        refs = last[2] if last is not None and last[0] == id(optimizer) and last[1] == _generation else _listener_refs(optimizer)
    for listener in _alive(refs):
        try:
            getattr(listener, method)(optimizer)
        except Exception as error:  # never break the user's training
            warnings.warn(f"nnwidgets: {type(listener).__name__}.{method} failed: {type(error).__name__}: {error}",
                          RuntimeWarning, stacklevel=2)


def _before(optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
    _call(optimizer, "before_step")


def _after(optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
    _call(optimizer, "after_step")
