"""Keeps views in step with live models, and lets go of views nobody can reach any more.

After every notebook cell: each inspector with a view in sight checks (cheaply) whether its model
changed and, if so, tells its views; then views that left the page (their cell re-ran or was
cleared) and that no variable of the user can reach are closed, so they stop holding the model."""

from __future__ import annotations

import gc
import re
import sys
import types
import warnings
import weakref
from typing import Any

_views: "weakref.WeakSet[Any]" = weakref.WeakSet()
_out_of_sight: "weakref.WeakSet[Any]" = weakref.WeakSet()
_hooked_shells: "weakref.WeakSet[Any]" = weakref.WeakSet()

SEARCH_BUDGET = 200_000
_CACHE_NAMES = re.compile(r"^(_+|_\d+|_i\d*|_ii+|_i+\d*|_oh|_ih|_dh|Out|In|exit|quit|get_ipython|_exit_code)$")
_OPAQUE_MODULES = ("ipykernel", "IPython", "comm", "zmq", "tornado", "jupyter_client", "asyncio", "threading", "logging")


def watch(view: Any) -> None:
    """Keep ``view`` in step with its model after each cell run in the current IPython shell."""
    _views.add(view)
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and shell not in _hooked_shells:
        shell.events.register("post_run_cell", after_cell)
        _hooked_shells.add(shell)


def went_out_of_sight(view: Any) -> None:
    """``view`` has no view in the page any more: a candidate for closing after the next cell."""
    _out_of_sight.add(view)


def live_views() -> list[Any]:
    """Every view not closed (for tests and diagnostics)."""
    return [v for v in list(_views) if not v._closed]


def after_cell(*_: Any) -> None:
    release_unreachable()
    refresh_changed()


def refresh_changed() -> None:
    """Tell the views of every inspector whose model changed (errors are reported, not raised)."""
    inspectors = {}
    for view in list(_views):
        if view.live and view.auto_refresh and view.inspector is not None:
            inspectors[id(view.inspector)] = view.inspector
    for inspector in inspectors.values():
        try:
            inspector.check_for_changes()
        except Exception as error:  # a broken model must not break the user's next cell
            warnings.warn(f"nnwidgets: could not check {type(inspector.model).__name__} for changes: {error}", stacklevel=1)


def release_unreachable() -> None:
    """Close views that left the page and that no variable of the user's can reach."""
    candidates = [v for v in list(_out_of_sight) if not v.live and not v._closed]
    if not candidates:
        return
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    reachable = _reachable(shell, {id(v) for v in candidates})
    if reachable is None:
        return
    for view in candidates:
        if id(view) not in reachable:
            _out_of_sight.discard(view)
            view.close()


def _reachable(shell: Any, targets: set[int]) -> set[int] | None:
    """Which of ``targets`` (object ids) the user's variables reach, following references; output
    caches (``Out``, ``_``, ``_5``) and the kernel's own machinery do not count. None if the search
    ran out of budget (then nothing is closed)."""
    namespace = shell.user_ns
    skip = {id(namespace), id(getattr(shell, "user_ns_hidden", None))}
    skip.update(id(vars(m)) for m in list(sys.modules.values()) if m is not None)  # a function's globals
    for name in ("Out", "_oh", "In", "_ih"):
        if name in namespace:
            skip.add(id(namespace[name]))
    frontier = [value for name, value in list(namespace.items()) if not _CACHE_NAMES.match(name)]
    seen: set[int] = set()
    found: set[int] = set()
    while frontier:
        if len(seen) > SEARCH_BUDGET:
            return None
        obj = frontier.pop()
        key = id(obj)
        if key in seen or key in skip or _opaque(obj):
            continue
        seen.add(key)
        if key in targets:
            found.add(key)
        frontier.extend(gc.get_referents(obj))
    return found


def _opaque(obj: Any) -> bool:
    if isinstance(obj, (types.ModuleType, type, str, bytes, int, float)):
        return True
    module = getattr(type(obj), "__module__", "") or ""
    return module.startswith(_OPAQUE_MODULES)
