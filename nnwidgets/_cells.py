"""Knowing when a notebook cell runs, so background training never overlaps the user's code.

IPython triggers ``pre_run_cell`` before each cell and ``post_run_cell`` after it. A :class:`CellGate`
listens to both on one shell and tells its holders (trainers): ``hold()`` before the cell (a holder
returns only once its step in progress finished) and ``release()`` after it.
"""

from __future__ import annotations

import threading
import warnings
import weakref
from typing import Any, Protocol


class Holder(Protocol):
    def hold(self) -> None: ...

    def release(self) -> None: ...


class CellGate:
    """Cells of one IPython ``shell``: whether one runs now, and who pauses for them.

    Made while a cell runs (the usual case: a Trainer built in a cell), it starts closed
    (``in_cell``) until that cell's ``post_run_cell``.
    """

    def __init__(self, shell: Any, in_cell: bool = False) -> None:
        self.shell = shell
        self.in_cell = in_cell
        self._holders: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self._lock = threading.Lock()
        shell.events.register("pre_run_cell", self._before)
        shell.events.register("post_run_cell", self._after)

    def add(self, holder: Holder) -> None:
        with self._lock:
            self._holders.add(holder)

    def discard(self, holder: Holder) -> None:
        with self._lock:
            self._holders.discard(holder)

    def _each(self, method: str) -> None:
        with self._lock:
            holders = list(self._holders)
        for holder in holders:
            try:
                getattr(holder, method)()
            except Exception as error:  # never break the user's cell
                warnings.warn(f"nnwidgets: {type(holder).__name__}.{method} failed: {error}", RuntimeWarning, stacklevel=2)

    def _before(self, *_: Any) -> None:
        self.in_cell = True
        self._each("hold")

    def _after(self, *_: Any) -> None:
        self.in_cell = False
        self._each("release")

    def close(self) -> None:
        """Stop listening to the shell (tests)."""
        for name, callback in (("pre_run_cell", self._before), ("post_run_cell", self._after)):
            try:
                self.shell.events.unregister(name, callback)
            except ValueError:
                pass


_gates: "weakref.WeakKeyDictionary[Any, CellGate]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def gate(shell: Any = None) -> CellGate | None:
    """The gate of ``shell`` (default: the running IPython shell), made on first use; None outside
    IPython (a script: nothing to wait for). First made on the main thread, it assumes a cell runs
    now (the code that asked is that cell), until the next ``post_run_cell``."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return None
        shell = get_ipython()
        if shell is None:
            return None
    with _lock:
        found = _gates.get(shell)
        if found is None:
            found = _gates[shell] = CellGate(shell, in_cell=threading.current_thread() is threading.main_thread())
        return found


def forget(shell: Any) -> None:
    """Drop (and unhook) the gate of ``shell`` (tests)."""
    with _lock:
        found = _gates.pop(shell, None)
    if found is not None:
        found.close()
