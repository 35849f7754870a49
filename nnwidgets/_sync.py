"""Widget state sent to the page from several threads at once: the kernel's, and the scheduler's
workers delivering results and progress."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import anywidget

from .core.live import messages

_creating = threading.Lock()


class ThreadSafeWidget(anywidget.AnyWidget):
    """An AnyWidget whose ``hold_sync`` batches may overlap changes made on other threads.

    ipywidgets keeps one set of names to send per widget while a ``hold_sync`` block runs, and sends
    it as the block ends; a change made meanwhile on another thread is added to that set while it is
    being read ("Set changed size during iteration") or after it was read and before it is cleared
    (a change the page never hears of). Here the set is added to and taken under a lock, and each
    batch sends the names it took.
    """

    def _sync_lock(self) -> threading.Lock:
        lock = self.__dict__.get("_nnw_sync_lock")
        if lock is None:
            with _creating:
                lock = self.__dict__.setdefault("_nnw_sync_lock", threading.Lock())
        return lock

    @contextlib.contextmanager
    def hold_sync(self) -> Iterator[None]:
        with self._sync_lock():
            outermost = not self._holding_sync
            self._holding_sync = True
        try:
            yield
        finally:
            if outermost:
                with self._sync_lock():
                    self._holding_sync = False
                    names, self._states_to_send = self._states_to_send, set()
                if names:
                    self.send_state(names)

    def _send(self, msg: dict, buffers: list | None = None) -> None:
        messages.sent()  # live refreshes keep the total under the page's rate limit
        super()._send(msg, buffers)

    def _should_send_property(self, key: str, value: Any) -> bool:
        with self._sync_lock():
            return super()._should_send_property(key, value)
