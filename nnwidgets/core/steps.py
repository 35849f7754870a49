"""Hearing a model's optimizer steps without touching the model or the optimizer.

torch calls global step hooks (``torch.optim.optimizer.register_optimizer_step_pre_hook`` and
``..._post_hook``) around every ``optimizer.step()``. They are registered once, here, and live in torch's
module, not on the user's optimizer: its ``state_dict``, its own hooks and its parameters are untouched.
Which listening models own a parameter an optimizer updates is worked out once per optimizer (again when
listeners or its parameters change); a step then costs a dictionary lookup and the listeners' calls —
a few microseconds that matter on small models, whose steps take a millisecond."""

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
    """Hears a model's optimizer steps: ``after_step(optimizer)`` after each, and ``before_step(optimizer)``
    before those it wants it for (:func:`want_before`), where it has that method: a step nobody wants a
    before-call for costs nothing before it."""

    def after_step(self, optimizer: torch.optim.Optimizer) -> None: ...


_lock = threading.RLock()  # (re-entrant: a finalizer that stops a listener may run while this thread holds it)
_listeners: dict[int, tuple[weakref.ref, weakref.ref]] = {}  # id(listener) -> (model, listener)
_generation = 0
_routes: dict[int, "_Route"] = {}  # id(optimizer) -> who hears its steps (while the optimizer lives)
_wanting_before: set[int] = set()  # id(listener) of those that want their before_step called now
_died: list[int] = []  # id(listener) of listeners gone since the last sweep (see _sweep)
_handles: list[Any] = []


class _Route:
    """The listeners of one optimizer's steps, as worked out for the listeners and parameters it had."""

    __slots__ = ("optimizer", "generation", "params", "before", "after")

    def __init__(self, optimizer: weakref.ref | None, generation: int, params: int,
                 before: tuple[weakref.ref, ...], after: tuple[weakref.ref, ...]) -> None:
        self.optimizer, self.generation, self.params, self.before, self.after = optimizer, generation, params, before, after


def on_steps(model: nn.Module, listener: StepListener) -> Callable[[], None]:
    """Call ``listener.after_step(optimizer)`` after every ``optimizer.step()`` that updates a parameter of
    ``model`` (and ``listener.before_step(optimizer)`` before it, while :func:`want_before` asks for it),
    on the thread that steps. Model and listener are held weakly. Returns a function that stops listening.
    A listener that raises is reported as a warning; the step goes on.

    >>> import torch
    >>> net = torch.nn.Linear(2, 1)
    >>> class Count:
    ...     n = 0
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
        _sweep()
        _install()
        key = id(listener)
        _listeners[key] = (weakref.ref(model), weakref.ref(listener, lambda _, k=key: _died.append(k)))
        _generation += 1

    def stop() -> None:
        _forget(key)

    return stop


def want_before(listener: StepListener, wanted: bool) -> None:
    """Whether ``listener.before_step`` is called before the steps from now on (at first it is not)."""
    with _lock:
        _sweep()
        if not wanted:
            _wanting_before.discard(id(listener))
        elif id(listener) in _listeners:
            _wanting_before.add(id(listener))


def _forget(key: int) -> None:
    with _lock:
        _sweep()
        _drop_listener(key)


def _drop_listener(key: int) -> None:
    """(Under the lock.) Forget listener ``key``: routes worked out with it are worked out again."""
    global _generation
    _wanting_before.discard(key)
    if _listeners.pop(key, None) is not None:
        _generation += 1


def _sweep() -> None:
    """(Under the lock.) Forget the listeners that died. Their weak references' callbacks only note them:
    the cyclic garbage collector runs those callbacks wherever an allocation starts it, maybe in this
    module while the lock is held, and a callback must not take it then (nor change the tables under an
    iteration). A dead listener not yet swept costs nothing but a skipped call."""
    while _died:
        key = _died.pop()
        entry = _listeners.get(key)
        if entry is None or entry[1]() is None:  # (not a new listener that took the id since)
            _drop_listener(key)


def _install() -> None:
    if not _handles:
        _handles.append(register_optimizer_step_pre_hook(_before))
        _handles.append(register_optimizer_step_post_hook(_after))


def param_count(optimizer: torch.optim.Optimizer) -> int:
    """How many parameters ``optimizer`` updates (in all its groups)."""
    count = 0
    for group in optimizer.param_groups:  # a loop, not sum(): this runs at every step
        count += len(group["params"])
    return count


def listeners_of(optimizer: torch.optim.Optimizer) -> list[StepListener]:
    """The listeners whose model has a parameter that ``optimizer`` updates."""
    return _alive(_route(optimizer).after)


def _alive(refs: tuple[weakref.ref, ...]) -> list[StepListener]:
    return [listener for ref in refs if (listener := ref()) is not None]


def _route(optimizer: torch.optim.Optimizer) -> _Route:
    route = _routes.get(id(optimizer))
    if route is not None and route.generation == _generation and route.optimizer() is optimizer \
            and route.params == param_count(optimizer):
        return route
    return _reroute(optimizer)


def _reroute(optimizer: torch.optim.Optimizer) -> _Route:
    with _lock:
        _sweep()
        entries = list(_listeners.values())
        generation = _generation
    ids = {id(p) for group in optimizer.param_groups for p in group["params"]}
    found = []
    for model_ref, listener_ref in entries:
        model = model_ref()
        if model is not None and any(id(p) in ids for p in model.parameters()):
            found.append(listener_ref)
    key = id(optimizer)
    try:
        alive = weakref.ref(optimizer, lambda ref: _drop_route(key, ref))
    except TypeError:  # an optimizer that cannot be weakly referenced: worked out again at each step
        alive = None
    before = tuple(ref for ref in found if getattr(ref(), "before_step", None) is not None)
    route = _Route(alive, generation, param_count(optimizer), before, tuple(found))
    if alive is not None:
        _routes[key] = route
    return route


def _drop_route(key: int, optimizer: weakref.ref) -> None:
    """A dead optimizer's route goes (not the route of a new one that took its id meanwhile)."""
    if getattr(_routes.get(key), "optimizer", None) is optimizer:
        _routes.pop(key, None)


def _failed(listener: StepListener, method: str, error: Exception) -> None:
    """A listener that raises never breaks the user's training: it is reported, and the step goes on."""
    warnings.warn(f"nnwidgets: {type(listener).__name__}.{method} failed: {type(error).__name__}: {error}",
                  RuntimeWarning, stacklevel=3)


def _before(optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
    if _wanting_before:  # (empty on most steps: only a step someone samples needs a call before it)
        for ref in _route(optimizer).before:
            listener = ref()
            if listener is not None and id(listener) in _wanting_before:
                try:
                    listener.before_step(optimizer)
                except Exception as error:
                    _failed(listener, "before_step", error)


def _after(optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
    # This runs after every step of every optimizer, where the step has just filled the caches with its own
    # data: each function called here costs a few microseconds then (a millisecond step pays ~0.3 % each), so
    # the route's check and the calls are written out here rather than called.
    if not _listeners:
        return
    route = _routes.get(id(optimizer))
    if route is None or route.generation != _generation or route.optimizer() is not optimizer \
            or route.params != param_count(optimizer):
        route = _reroute(optimizer)
    for ref in route.after:
        listener = ref()
        if listener is not None:
            try:
                listener.after_step(optimizer)
            except Exception as error:
                _failed(listener, "after_step", error)
