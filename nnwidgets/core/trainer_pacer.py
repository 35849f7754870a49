"""Paced updates to a page: at most ``rate`` per second, and none while the page has not drawn the
last one (up to ``patience`` seconds), so a slow browser gets the newest state, never a queue."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pacer:
    """Calls ``send(seq)`` for offered updates, at most ``rate`` times a second.

    An update offered too soon, or while the page has not acknowledged (:meth:`drawn`) the previous
    one, is not sent; the newest state goes out once allowed (a trailing send on a timer), so the
    last state always arrives and nothing queues up. The page's acknowledgement is waited for at most
    ``patience`` seconds (while a cell runs the kernel reads no messages from the page).

    >>> sent = []
    >>> clock = [0.0]
    >>> p = Pacer(sent.append, rate=4, patience=1.0, clock=lambda: clock[0], timers=False)
    >>> p.offer(); p.offer(); sent           # the second is too soon: dropped (kept as pending)
    [1]
    >>> clock[0] = 0.3; p.offer(); sent      # not yet drawn by the page: waits
    [1]
    >>> p.drawn(1); p.offer(); sent
    [1, 2]
    >>> clock[0] = 2.0; p.offer(); sent      # the page never answered: sent after `patience`
    [1, 2, 3]
    """

    def __init__(self, send: Callable[[int], None], rate: float = 4.0, patience: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, timers: bool = True) -> None:
        self._send = send
        self.interval = 1.0 / rate
        self.patience = patience
        self._clock = clock
        self._timers = timers
        self._lock = threading.Lock()
        self._last = -float("inf")
        self._seq = 0
        self._acked = 0
        self._pending = False
        self._timer: threading.Timer | None = None
        self.sent = 0
        self.dropped = 0

    def offer(self, now: bool = False) -> None:
        """There is a new state to show. ``now``: send it even if too soon (the page asked for it)."""
        with self._lock:
            wait = 0.0 if now else self._wait()
            if wait > 0:
                self.dropped += 1
                self._pending = True
                self._arm(wait)
                return
            self._pending = False
            self._seq += 1
            self._last = self._clock()
            seq = self._seq
        self.sent += 1
        self._send(seq)

    def _wait(self) -> float:
        """Seconds until a send is allowed (0: now)."""
        since = self._clock() - self._last
        wait = self.interval - since
        if self._acked < self._seq:
            wait = max(wait, self.patience - since)
        return max(wait, 0.0)

    def _arm(self, wait: float) -> None:
        if self._timers and self._timer is None:
            self._timer = threading.Timer(wait, self._trailing)
            self._timer.daemon = True
            self._timer.start()

    def _trailing(self) -> None:
        with self._lock:
            self._timer = None
            pending = self._pending
        if pending:
            self.offer()

    def drawn(self, seq: int) -> None:
        """The page drew update ``seq``: the next may go as soon as the rate allows."""
        with self._lock:
            self._acked = max(self._acked, int(seq))
            pending = self._pending
        if pending:
            self.offer()

    def cancel(self) -> None:
        with self._lock:
            self._pending = False
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
