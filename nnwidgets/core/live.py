"""Views that follow a model while it trains, inside one running cell or a thread.

Each optimizer step of a model with an inspector (heard through :mod:`.steps`) or each
``monitor.log(...)`` marks the inspector as *moving*. One daemon thread, the ticker, then refreshes
moving inspectors (``check_for_changes(live=True)``) a few times a second, so their views recompute in the
background while the user's loop goes on. The ticker keeps to a budget: it refreshes only while the work
it caused took at most ``DUTY`` of the wall time, and while the messages sent in the last second plus
those its last refresh sent stay under 60 % of ``MAX_MESSAGES_PER_S``; a refresh that does not fit is
dropped, never queued. The work counted is what live refreshes asked of the scheduler's workers (not what
the user or a new view asked for meanwhile), the ticker's own CPU time, and the training steps' slowdown while
that work ran (:class:`Contention`: where the training already uses every core, the work's cost is mostly
the steps it delays). A training session starts as if a refresh had just been paid for, at what the
model's last refresh cost, so a big model's first live picture waits its turn instead of slowing the first
steps — but comes within about ``FIRST_PICTURE_WITHIN_S``. Once a model has not moved for ``QUIET_S`` (or
three of its usual steps, when they are slower), a last exact refresh shows the model as it is (what the end
of a cell would do: not counted in the budget)."""

from __future__ import annotations

import bisect
import statistics
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence
from typing import Any

from .scheduler import scheduler
from .torch_threads import one_thread_for_torch

TICK_S = 0.1
QUIET_S = 0.5
QUIET_MAX_S = 5.0  # however slow its steps, a model that did not step for this long paused
DUTY = 0.0075  # at most this share of the wall time goes to work caused by live refreshes
FIRST_PICTURE_WITHIN_S = 1.0  # however much a model's last refresh cost, a session's first live picture comes this soon
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


class Contention:
    """How much background work slowed a model's training steps. Each interval between two optimizer
    steps that overlaps work (a refresh on the ticker, a task on a worker) is compared with the median of
    recent intervals that overlapped none; what it took beyond that, at most the overlap, is counted — and
    what it took less, too (at most the overlap), so that on a loaded machine, where steps vary by more
    than the work takes, their noise cancels instead of adding up as slowdown.

    >>> c = Contention()
    >>> c.add([0.0, 1.0, 2.0, 3.0, 4.0, 6.0], [(4.5, 5.5)])  # four quiet 1 s steps, then one 2 s step under work
    1.0
    """

    QUIET_KEPT = 64
    MIN_QUIET = 3

    def __init__(self) -> None:
        self.quiet: deque[float] = deque(maxlen=self.QUIET_KEPT)
        self.gaps: deque[float] = deque(maxlen=8)  # from a session's last step to the next session's first
        self.last_step: float | None = None  # the last step of the last session
        self.seen = float("-inf")  # the last step already counted

    def add(self, steps: Sequence[float], windows: Sequence[tuple[float, float]]) -> float:
        """Count the intervals between ``steps`` (times, ascending) that end after the last counted
        step, against the work ``windows`` (start, end); returns the seconds of slowdown they add (less
        than zero where the steps under work were quicker than usual)."""
        added = 0.0
        first = max(0, bisect.bisect_right(steps, self.seen) - 1)
        for before, after in zip(steps[first:], steps[first + 1:]):
            overlap = sum(max(0.0, min(after, end) - max(before, start)) for start, end in windows)
            if overlap <= 0.0:
                self.quiet.append(after - before)
            elif len(self.quiet) >= self.MIN_QUIET:
                added += min(overlap, max(-overlap, after - before - statistics.median(self.quiet)))
        if len(steps):
            self.seen = max(self.seen, steps[-1])
        return added


class _Moving:
    """A model's training session: from its first move (a step, a logged metric) until the ticker settles
    it (``open`` turns False then)."""

    __slots__ = ("since", "last_move", "steps", "contention", "refreshed", "open")

    def __init__(self, now: float, contention: Contention) -> None:
        self.open = True
        self.since = now
        self.last_move = now
        self.refreshed = float("-inf")  # its last live refresh: the one waiting longest goes first
        self.steps: deque[float] = deque(maxlen=512)  # when its optimizer steps ended, this session
        self.contention = contention  # the model's, kept between sessions (a big model has few steps in each)

    def quiet_after(self) -> float:
        """How long without a step means training paused: ``QUIET_S``, or three of its usual steps when
        those are slower (a big model's 0.5 s steps are not a pause after each; before this session has
        steps to judge by, the model's earlier ones are)."""
        recent = list(self.steps)[-9:]
        if len(recent) >= 3:
            usual = statistics.median(b - a for a, b in zip(recent, recent[1:]))
        elif self.contention.quiet:
            usual = statistics.median(self.contention.quiet)
        elif self.contention.gaps:
            usual = min(self.contention.gaps)  # the shortest gap between sessions is the likeliest a step
        else:
            return QUIET_S
        return min(QUIET_MAX_S, max(QUIET_S, 3 * usual))


class Ticker:
    """The one thread that refreshes moving inspectors. See the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._moving: "weakref.WeakKeyDictionary[Any, _Moving]" = weakref.WeakKeyDictionary()
        self._thread: threading.Thread | None = None
        self._last_work = (time.monotonic(), 0.0)  # (when, _work()) at the last refresh
        self._own_s = 0.0  # time this thread spent refreshing
        self._own_windows: deque[tuple[float, float]] = deque(maxlen=64)  # when it refreshed
        self._slowdown_s = 0.0  # the training steps' slowdown while work ran (Contention)
        self._contention: "weakref.WeakKeyDictionary[Any, Contention]" = weakref.WeakKeyDictionary()
        self._cost: "weakref.WeakKeyDictionary[Any, float]" = weakref.WeakKeyDictionary()  # an inspector's last live refresh, all counted
        self._last_refreshed: tuple[Any, float] | None = None  # (weak ref to the inspector, work when its live refresh began)
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

    def moved(self, inspector: Any, step: bool = False) -> _Moving:
        """``inspector``'s model just changed (an optimizer ``step``, a logged metric). Cheap: called on
        the training thread. Returns the model's training session: until it closes (``open``), a caller
        that hears the model's steps may note the next ones in it itself (``last_move``, ``steps``), as this
        would, without the call."""
        now = time.monotonic()
        state = self._moving.get(inspector)
        if state is not None:
            state.last_move = now
            if step:
                state.steps.append(now)
            return state
        with self._lock:
            if not self._moving:  # messages from before training began are not the refreshes' to pay for
                self._messages_at_refresh, self._refresh_messages = messages.total, 0.0
            if inspector not in self._moving:
                # Nor is earlier work (even another model's, still moving): the session's first refresh waits as
                # if one of its model's had just been paid for (a big model's costs more), within FIRST_PICTURE_WITHIN_S.
                self._last_work = (now, self._work() - min(self._cost.get(inspector, 0.0), DUTY * FIRST_PICTURE_WITHIN_S))
                contention = self._contention.setdefault(inspector, Contention())
                contention.seen = now  # the pause before this session is not a step, but a short one may be a slow step
                if step and contention.last_step is not None and now - contention.last_step < 30 * QUIET_S:
                    contention.gaps.append(now - contention.last_step)
                self._moving[inspector] = _Moving(now, contention)
                if step:
                    self._moving[inspector].steps.append(now)
                inspector.training = True
                inspector.deferring_slow_work = True
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="nnwidgets-live", daemon=True)
                self._thread.start()
            return self._moving[inspector]

    def is_moving(self, inspector: Any) -> bool:
        return inspector in self._moving

    def any_moving(self) -> bool:
        """Whether some model's training session is open (its views still follow it live)."""
        return bool(self._moving)

    def _run(self) -> None:
        with one_thread_for_torch():  # this thread runs only while a model trains: see torch_threads
            self._tick_while_moving()

    def _tick_while_moving(self) -> None:
        while True:
            with self._lock:
                if not self._moving or self._closed:
                    self._thread = None
                    return
                moving = list(self._moving.items())
            now = time.monotonic()
            self._count_slowdown(moving)
            # The budget is shared: whichever refreshes first spends it, so the model refreshed longest ago goes
            # first (two inspectors of one model, or two models training at once, take turns).
            for inspector, state in sorted(moving, key=lambda item: item[1].refreshed):
                if now - state.last_move > state.quiet_after():
                    self._settle(inspector)
                elif self._may_refresh(inspector, now):
                    state.refreshed = now
                    self._refresh(inspector, live=True)
            moving = inspector = state = None  # a sleeping ticker holds no inspector: one whose views closed is freed
            time.sleep(TICK_S)

    def _may_refresh(self, inspector: Any, now: float) -> bool:
        when, before = self._last_work
        work = self._work() - before
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

    def _work(self) -> float:
        """Seconds of work live refreshes caused so far: on the scheduler's workers, on this thread (views
        that draw at once, such as a heatmap pooled inline, do it here), and the training steps' slowdown
        while that work ran."""
        return scheduler().busy_seconds(live_only=True) + self._own_s + self._slowdown_s

    def _count_slowdown(self, moving: list) -> None:
        """Add the slowdown of the steps taken since the last tick (see :class:`Contention`)."""
        oldest = min((s.contention.seen for _, s in moving), default=0.0)
        windows = None
        for _, state in moving:
            steps = list(state.steps.copy())  # appended to by the training thread meanwhile
            if len(steps) < 2 or steps[-1] <= state.contention.seen:
                continue
            if windows is None:
                windows = scheduler().work_windows(oldest, live_only=True) + [w for w in self._own_windows if w[1] > oldest]
            self._slowdown_s = max(0.0, self._slowdown_s + state.contention.add(steps, windows))

    def _refresh(self, inspector: Any, live: bool) -> None:
        """Refresh ``inspector``'s views: a ``live`` refresh is counted against the budget; the exact one
        after training paused is not (it is what the end of a cell would have done)."""
        if not live:
            inspector.check_for_changes(live=False)
            return
        started, cpu_started = time.monotonic(), time.thread_time()
        work = self._work()
        self._note_cost(work)
        self._last_work = (started, work)
        self._last_refreshed = (weakref.ref(inspector), work)
        self._messages_at_refresh, self._refresh_messages = messages.total, 0.0
        self.refreshes += 1
        try:
            with scheduler().asked_by_live_refresh():
                inspector.check_for_changes(live=True)
        except Exception:  # a model broken mid-training: the views say so on the next exact refresh
            pass
        finally:
            self._own_s += time.thread_time() - cpu_started  # not the time it waited for a core: Contention counts that
            self._own_windows.append((started, time.monotonic()))

    def _note_cost(self, work: float) -> None:
        """What the last live refresh cost, all counted until now: the next training session of its
        model starts as if it had just paid that."""
        if self._last_refreshed is not None:
            inspector = self._last_refreshed[0]()
            if inspector is not None:
                self._cost[inspector] = work - self._last_refreshed[1]

    def _settle(self, inspector: Any) -> None:
        """The model stopped moving: one exact refresh, views draw what they skipped or deferred, and
        only then ``training`` turns False (a caller waiting for it then finds the views' work asked for)."""
        with self._lock:
            state = self._moving.pop(inspector, None)
            if state is not None:
                state.open = False
                if state.steps:
                    state.contention.last_step = state.steps[-1]
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
