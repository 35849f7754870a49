"""Keeps widgets in step with live models: after every notebook cell, changed models are redrawn."""

from __future__ import annotations

import warnings
import weakref
from typing import Any

BACKGROUND_WAIT_S = 120

_watched: "weakref.WeakSet[Any]" = weakref.WeakSet()
_hooked_shells: "weakref.WeakSet[Any]" = weakref.WeakSet()


def watch(widget: Any) -> None:
    """Call ``widget.refresh_if_changed()`` after each cell run in the current IPython shell."""
    _watched.add(widget)
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and shell not in _hooked_shells:
        shell.events.register("pre_run_cell", _finish_background_work)
        shell.events.register("post_run_cell", refresh_changed)
        _hooked_shells.add(shell)


def _finish_background_work(*_: Any) -> None:
    from ._background import wait_all

    wait_all(timeout=BACKGROUND_WAIT_S)


def refresh_changed(*_: Any) -> None:
    """Refresh every watched widget whose model changed (errors are shown in the widget, not raised)."""
    for widget in list(_watched):
        if not getattr(widget, "auto_refresh", True):
            continue
        try:
            widget.refresh_if_changed()
        except Exception as error:  # a broken model must not break the user's next cell
            warnings.warn(f"nnwidgets: could not refresh {type(widget).__name__}: {error}", stacklevel=1)
