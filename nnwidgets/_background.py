"""Slow work off the kernel's main thread: one worker per widget, the latest request wins."""

from __future__ import annotations

import atexit
import threading
import weakref
from collections.abc import Callable
from typing import Any

_runners: "weakref.WeakSet[LatestWins]" = weakref.WeakSet()
IDLE_EXIT_S = 30.0  # a worker with nothing to do this long ends; the next request starts another


class LatestWins:
    """Runs submitted jobs one at a time on a worker thread. A request made while another runs
    replaces any request still waiting, and only the newest request's outcome is delivered, so
    a burst of slider moves ends on the last one without computing every step in between."""

    def __init__(self, on_busy: Callable[[bool], None]) -> None:
        self._on_busy = on_busy
        self._lock = threading.Lock()
        self._pending: tuple | None = None
        self._generation = 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Event()
        self._idle.set()
        _runners.add(self)

    def submit(self, job: Callable[[], Any], deliver: Callable[[Any], None], fail: Callable[[Exception], None]) -> None:
        with self._lock:
            self._generation += 1
            self._pending = (self._generation, job, deliver, fail)
            self._idle.clear()
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="nnwidgets-worker", daemon=True)
                self._thread.start()
            self._on_busy(True)  # under the lock, so a finishing job cannot clear it afterwards
            self._wake.notify()

    def _work(self) -> None:
        """A long-lived thread: it sleeps between requests instead of being re-created, and ends
        after ``IDLE_EXIT_S`` without work or when the runner is closed."""
        while True:
            with self._lock:
                while self._pending is None:
                    self._idle.set()
                    if self._closed or (not self._wake.wait(IDLE_EXIT_S) and self._pending is None):
                        self._thread = None
                        return
                item, self._pending = self._pending, None
            generation, job, deliver, fail = item
            try:
                outcome, ok = job(), True
            except Exception as error:  # shown in the widget; the next request starts afresh
                outcome, ok = error, False
            with self._lock:
                latest = generation == self._generation
            if latest:
                (deliver if ok else fail)(outcome)
            with self._lock:
                if self._pending is None:
                    self._on_busy(False)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker once its current job is done (threads that used torch must not be
        alive at interpreter exit: torch's C++ runtime can abort the process then)."""
        with self._lock:
            self._closed = True
            self._pending = None
            thread = self._thread
            self._wake.notify()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no job is running or waiting; False if ``timeout`` passed first."""
        return self._idle.wait(timeout)


def wait_all(timeout: float | None = None) -> None:
    """Let every widget's background work finish (called before each notebook cell runs, so a
    cell that trains the model never overlaps an explanation reading it)."""
    for runner in list(_runners):
        runner.wait(timeout)


@atexit.register
def _close_all() -> None:
    for runner in list(_runners):
        runner.close()
