"""Views that follow a model while it trains, inside one running cell or a thread.

Each optimizer step of a model with an inspector (heard through :mod:`.steps`) or each
``monitor.log(...)`` marks the inspector as *moving*. One daemon thread, the ticker, then refreshes
moving inspectors (``check_for_changes(live=True)``) a few times a second, so their views recompute in the
background while the user's loop goes on. The ticker keeps to a budget: it refreshes only while the work
it caused (on the scheduler's workers and on its own thread) took at most ``DUTY`` of the wall time, and
while the messages sent in the last second plus those its last refresh sent stay under 60 % of
``MAX_MESSAGES_PER_S``; a refresh that does not fit is dropped, never queued. Once a model has not moved
for ``QUIET_S``, a last exact refresh shows the model as it is."""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from typing import Any

from .scheduler import scheduler

TICK_S = 0.1
QUIET_S = 0.5
DUTY = 0.01  # at most this share of the wall time goes to work caused by live refreshes
MAX_MESSAGES_PER_S = 100
MESSAGE_HEADROOM = 0.6  # refresh only while what is sent plus what a refresh sends stays under 60 % of that


class _Messages:
    """Counts messages sent to the page (every thread's): in all, and over the last second exactly."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recent: deque[float] = deque()
        self.total = 0

    def sent(self) -> None:
        now = time.monotonic()
        with self._lock:
            self.total += 1
            self._recent.append(now)
            self._forget(now)

    def per_second(self) -> float:
        """Messages sent in the last second."""
        with self._lock:
            self._forget(time.monotonic())
            return float(len(self._recent))

    def _forget(self, now: float) -> None:
        while self._recent and self._recent[0] <= now - 1.0:
            self._recent.popleft()


messages = _Messages()


class _Moving:
    __slots__ = ("since", "last_move")

    def __init__(self, now: float) -> None:
        self.since = now
        self.last_move = now


class Ticker:
    """The one thread that refreshes moving inspectors. See the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._moving: "weakref.WeakKeyDictionary[Any, _Moving]" = weakref.WeakKeyDictionary()
        self._thread: threading.Thread | None = None
        self._last_work = (time.monotonic(), 0.0)  # (when, scheduler busy seconds) at the last refresh
        self._own_s = 0.0  # time this thread spent refreshing
        self._messages_at_refresh = 0  # messages.total when the last refresh began
        self._refresh_messages = 0.0  # how many messages the last refresh caused (at least)
        self.refreshes = 0
        self.skipped = 0
        self._closed = False
        try:
            threading._register_atexit(self.shutdown)  # before interpreter teardown, like the scheduler's
        except (AttributeError, RuntimeError):
            pass

    def shutdown(self) -> None:
        """Refresh nothing more, and let a refresh under way end (a daemon thread still inside torch
        while the interpreter finalises would abort the process)."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def moved(self, inspector: Any) -> None:
        """``inspector``'s model just changed (a step, a logged metric). Cheap: called on the training thread."""
        now = time.monotonic()
        state = self._moving.get(inspector)
        if state is not None:
            state.last_move = now
            return
        with self._lock:
            if not self._moving:  # work and messages from before training began are not the refreshes' to pay for
                self._last_work = (now - TICK_S, self._busy())
                self._messages_at_refresh, self._refresh_messages = messages.total, 0.0
            if inspector not in self._moving:
                self._moving[inspector] = _Moving(now)
                inspector.training = True
                inspector.deferring_slow_work = True
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="nnwidgets-live", daemon=True)
                self._thread.start()

    def is_moving(self, inspector: Any) -> bool:
        return inspector in self._moving

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._moving or self._closed:
                    self._thread = None
                    return
                moving = list(self._moving.items())
            now = time.monotonic()
            for inspector, state in moving:
                if now - state.last_move > QUIET_S:
                    self._settle(inspector)
                elif self._may_refresh(inspector, now):
                    self._refresh(inspector, live=True)
            time.sleep(TICK_S)

    def _may_refresh(self, inspector: Any, now: float) -> bool:
        when, busy = self._last_work
        work = self._busy() - busy
        elapsed = now - when
        # What the last refresh sent (every view's redraw) must fit beside what is being sent now.
        self._refresh_messages = max(self._refresh_messages, messages.total - self._messages_at_refresh)
        if work > DUTY * elapsed:
            self.skipped += 1
            return False
        if messages.per_second() + self._refresh_messages > MAX_MESSAGES_PER_S * MESSAGE_HEADROOM:
            self._refresh_messages *= 0.95  # a burst of other messages must not stop live views for good
            self.skipped += 1
            return False
        return True

    def _busy(self) -> float:
        """Seconds of work so far: the scheduler's workers', and this thread's own refreshes (views that
        draw at once, such as a heatmap pooled inline, do it here)."""
        return scheduler().busy_seconds() + self._own_s

    def _refresh(self, inspector: Any, live: bool) -> None:
        started = time.monotonic()
        self._last_work = (started, self._busy())
        self._messages_at_refresh, self._refresh_messages = messages.total, 0.0
        self.refreshes += 1
        try:
            inspector.check_for_changes(live=live)
        except Exception:  # a model broken mid-training: the views say so on the next exact refresh
            if not live:
                raise
        finally:
            self._own_s += time.monotonic() - started

    def _settle(self, inspector: Any) -> None:
        """The model stopped moving: one exact refresh, views draw what they skipped or deferred, and
        only then ``training`` turns False (a caller waiting for it then finds the views' work asked for)."""
        with self._lock:
            self._moving.pop(inspector, None)
            inspector.deferring_slow_work = False
        try:
            self._refresh(inspector, live=False)
        except Exception:
            pass  # shown by the views; the ticker goes on for other models
        finally:
            inspector.settle_views()  # views that skipped the last live refresh draw it now
            with self._lock:
                if inspector not in self._moving:  # unless it moved again meanwhile
                    inspector.training = False


_ticker = Ticker()


def ticker() -> Ticker:
    """The process's one ticker."""
    return _ticker
