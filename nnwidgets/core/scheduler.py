"""The one scheduler for work that must not block the kernel: a worker thread per lane ("quick" for
work on the current row, "slow" for work over the whole data), the newest request of each view wins,
one computation per key however many views want it, superseded work dropped or cancelled.

A view owns a :class:`Slot` per kind of result it shows. ``request(slot, key, ...)`` makes ``key``
the one result that slot wants: a cached result is delivered at once, else the computation is queued
(or joined, when another slot already asked for the same key). A result reaches a slot only if it is
still the one the slot wants, so an old answer never overwrites a newer one. Workers are ordinary
(non-daemon) threads that retire as soon as their lane is idle (``IDLE_EXIT_S``): a thread that ran
parallel torch work keeps its own team of OpenMP threads until it ends, and while that team exists the
user's training runs slower (see :mod:`.torch_threads`). At interpreter exit queued work is dropped and
running work asked to stop, so the process ends normally with work in flight."""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
import warnings
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .torch_threads import one_thread_for_torch

LANES = ("quick", "slow")
IDLE_EXIT_S = 0.1  # long enough for a slider's stream of requests, short beside the pause before a training cell
PROGRESS_EVERY_S = 0.1


class Cancelled(Exception):
    """Raised inside a job (by :meth:`Job.check`) once nobody wants its result any more."""


class Job:
    """What a running computation can ask: ``check()`` (stop early if superseded) and ``progress()``."""

    def __init__(self, entry: "_Entry") -> None:
        self._entry = entry
        self._cancel = threading.Event()
        self._last_progress = 0.0

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the result is no longer wanted."""
        if self._cancel.is_set():
            raise Cancelled

    def progress(self, fraction: float, text: str | None = None) -> None:
        """Tell the waiting views how far the work is (0–1), at most every 0.1 s."""
        now = time.monotonic()
        if fraction < 1 and now - self._last_progress < PROGRESS_EVERY_S:
            return
        self._last_progress = now
        self._entry.status(text or self._entry.describe, fraction)


class Slot:
    """One view's interest in one kind of result. ``deliver(result)`` / ``fail(error)`` are called
    with the newest wanted result only; ``status(text, fraction)`` says what runs (``fraction`` None
    while it waits in the queue)."""

    def __init__(
        self,
        deliver: Callable[[Any], None],
        fail: Callable[[Exception], None],
        status: Callable[[str, float | None], None] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.wanted: Hashable | None = None
        self.entry: _Entry | None = None
        self.settled = threading.Event()
        self.settled.set()
        self._deliver, self._fail, self._status = deliver, fail, status

    def finish(self, key: Hashable, ok: bool, value: Any) -> None:
        with self.lock:
            if self.wanted != key or self.settled.is_set():
                return
            self.entry = None
            try:
                (self._deliver if ok else self._fail)(value)
            except Exception as error:  # a view that cannot take its result must not stop the worker
                _report(error, "delivering a result")
            finally:
                self.settled.set()

    def status(self, text: str, fraction: float | None) -> None:
        if self._status is not None and not self.settled.is_set():
            try:
                self._status(text, fraction)
            except Exception as error:
                _report(error, "showing progress")


def _report(error: Exception, doing: str) -> None:
    """A callback of a view failed on a worker: say so, and keep working for every other view."""
    warnings.warn(f"nnwidgets: a view failed while {doing}: {type(error).__name__}: {error}", RuntimeWarning, stacklevel=2)


class ResultCache:
    """Results by key, least recently used dropped first, ``keep`` of each kind (``key[0]``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kinds: dict[Hashable, OrderedDict] = {}

    def get(self, key: tuple) -> tuple[bool, Any]:
        with self._lock:
            kind = self._kinds.get(key[0])
            if kind is None or key not in kind:
                return False, None
            kind.move_to_end(key)
            return True, kind[key]

    def put(self, key: tuple, value: Any, keep: int) -> None:
        with self._lock:
            kind = self._kinds.setdefault(key[0], OrderedDict())
            kind[key] = value
            while len(kind) > keep:
                kind.popitem(last=False)

    def drop(self, keep: Callable[[tuple], bool]) -> None:
        """Forget every result whose key ``keep`` rejects (e.g. results of an old model version)."""
        with self._lock:
            for kind in self._kinds.values():
                for key in [k for k in kind if not keep(k)]:
                    del kind[key]


@dataclass(eq=False)
class _Entry:
    key: tuple
    run: Callable[[Job], Any]
    cache: ResultCache
    keep: int
    lane: str
    priority: int
    seq: int
    describe: str
    not_before: float = 0.0
    slots: set = field(default_factory=set)
    waiters: int = 0
    state: str = "queued"
    job: Job | None = None
    done: threading.Event = field(default_factory=threading.Event)
    ok: bool = False
    value: Any = None
    live: bool = False  # asked for by a live refresh while the model trains

    def status(self, text: str, fraction: float | None) -> None:
        for slot in list(self.slots):
            slot.status(text, fraction)


class Scheduler:
    """See the module docstring. One per process (:func:`scheduler`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = {lane: threading.Condition(self._lock) for lane in LANES}
        self._queues: dict[str, list[_Entry]] = {lane: [] for lane in LANES}
        self._entries: dict[tuple, _Entry] = {}
        self._threads: dict[str, threading.Thread | None] = dict.fromkeys(LANES)
        self._seq = itertools.count()
        self._closed = False
        self._busy_s = 0.0
        self._running_since: dict[int, float] = {}  # thread id -> when its current work started
        self._windows: deque[tuple[float, float, bool]] = deque(maxlen=256)  # (start, end, live) of recent finished work
        self._running_live: dict[int, bool] = {}  # thread id -> whether its current work is a live refresh's
        self._live_busy_s = 0.0
        self._asking = threading.local()
        try:
            threading._register_atexit(self.shutdown)  # runs before Python joins non-daemon threads
        except (AttributeError, RuntimeError):
            pass

    # -- asking -------------------------------------------------------------------------------
    def request(
        self,
        slot: Slot,
        key: tuple,
        run: Callable[[Job], Any],
        *,
        cache: ResultCache,
        keep: int = 16,
        lane: str = "quick",
        priority: int = 0,
        describe: str = "",
        inline: bool = False,
        settle: float = 0.0,
    ) -> None:
        """Make ``key`` the result ``slot`` wants, delivering it now if cached, else when computed.
        With ``inline`` (for work known to take a few milliseconds), a computation nobody has started
        yet runs on this thread at once instead of waiting for a worker. With ``settle``, a new
        computation waits that many seconds before it may start, so that in a storm of requests (a
        dragged slider) only the last one, which supersedes the others, is computed."""
        with slot.lock:
            previous = slot.entry
            slot.wanted = key
            hit, value = cache.get(key)
            if hit:
                with self._lock:
                    self._leave(previous, slot)
                slot.entry = None
                slot.settled.clear()
                slot.finish(key, True, value)
                return
            slot.settled.clear()
            with self._lock:
                entry = self._entries.get((id(cache), key))
                if entry is None:
                    entry = self._enqueue(key, run, cache, keep, lane, priority, describe, settle=settle)
                entry.slots.add(slot)
                if previous is not entry:
                    self._leave(previous, slot)
                slot.entry = entry
                running = entry.state == "running"
            slot.status(describe, 0.0 if running else None)
        if inline and not running:
            with self._lock:
                if entry.state != "queued":
                    return
                self._queues[entry.lane].remove(entry)
                entry.state, entry.job = "running", Job(entry)
            self._execute(entry)

    def withdraw(self, slot: Slot) -> None:
        """``slot`` wants nothing any more (its view closed or went out of sight)."""
        with slot.lock:
            with self._lock:
                self._leave(slot.entry, slot)
            slot.entry = None
            slot.wanted = None
            slot.settled.set()

    def compute(
        self,
        key: tuple,
        run: Callable[[Job], Any],
        *,
        cache: ResultCache,
        keep: int = 16,
        lane: str = "quick",
        priority: int = 0,
        describe: str = "",
    ) -> Any:
        """The result for ``key``, computed on this thread unless cached or already running elsewhere."""
        hit, value = cache.get(key)
        if hit:
            return value
        with self._lock:
            entry = self._entries.get((id(cache), key))
            inline = entry is None or entry.state == "queued"
            if entry is None:
                entry = self._enqueue(key, run, cache, keep, lane, priority, describe, queue=False)
            elif inline:
                self._queues[entry.lane].remove(entry)
            if inline:
                entry.state, entry.job = "running", Job(entry)
            entry.waiters += 1  # a caller waiting here keeps the work wanted
        try:
            if inline:
                self._execute(entry)
            else:
                entry.done.wait()
        finally:
            with self._lock:
                entry.waiters -= 1
        if not entry.ok:
            raise entry.value
        return entry.value

    # -- working ------------------------------------------------------------------------------
    def _enqueue(self, key, run, cache, keep, lane, priority, describe, queue: bool = True, settle: float = 0.0) -> _Entry:
        if lane not in LANES:
            raise ValueError(f"lane must be one of {LANES}, got {lane!r}")
        entry = _Entry(key, run, cache, keep, lane, priority, next(self._seq), describe, time.monotonic() + settle)
        entry.live = getattr(self._asking, "live", False)
        self._entries[(id(cache), key)] = entry
        if queue and not self._closed:
            self._queues[lane].append(entry)
            self._start(lane)
            self._wake[lane].notify()
        return entry

    def _leave(self, entry: _Entry | None, slot: Slot) -> None:
        """(Under the lock.) ``slot`` no longer wants ``entry``: drop or cancel it if nobody does."""
        if entry is None:
            return
        entry.slots.discard(slot)
        if entry.slots or entry.waiters:
            return
        if entry.state == "queued":
            if entry in self._queues[entry.lane]:
                self._queues[entry.lane].remove(entry)
            self._entries.pop((id(entry.cache), entry.key), None)
        elif entry.state == "running" and entry.job is not None:
            entry.job.cancel()

    def _start(self, lane: str) -> None:
        if self._threads[lane] is None:
            thread = threading.Thread(target=self._work, args=(lane,), name=f"nnwidgets-{lane}", daemon=False)  # not inherited from a daemon caller (the live ticker)
            self._threads[lane] = thread
            thread.start()

    def _work(self, lane: str) -> None:
        queue = self._queues[lane]
        try:
            while True:
                with self._lock:
                    entry = self._next(lane)
                    if entry is None:
                        self._threads[lane] = None
                        return
                    queue.remove(entry)
                    entry.state, entry.job = "running", Job(entry)
                entry.status(entry.describe, 0.0)
                with one_thread_for_torch(when=_training_under_way()):
                    self._execute(entry)
                entry = None  # an idle worker must not keep the last job (and its inspector and model) alive
        except BaseException:
            with self._lock:  # whatever ended this worker, the lane gets another
                self._threads[lane] = None
                if queue and not self._closed:
                    self._start(lane)
            raise

    def _next(self, lane: str) -> _Entry | None:
        """(Under the lock.) The most urgent entry of ``lane`` whose settling time has passed, waiting
        for one; None once the scheduler closed or the lane stayed idle for ``IDLE_EXIT_S``."""
        queue = self._queues[lane]
        while not self._closed:
            now = time.monotonic()
            ready = [e for e in queue if e.not_before <= now]
            if ready:
                return min(ready, key=lambda e: (e.priority, e.seq))
            wait = min((e.not_before for e in queue), default=now + IDLE_EXIT_S) - now
            if not self._wake[lane].wait(wait) and not queue:
                return None
        return None

    @contextlib.contextmanager
    def asked_by_live_refresh(self) -> Iterator[None]:
        """Work first asked for inside this block (on this thread) is a live refresh's: counted apart."""
        self._asking.live = True
        try:
            yield
        finally:
            self._asking.live = False

    def busy_seconds(self, live_only: bool = False) -> float:
        """Seconds the workers have spent on work so far (running work counted up to now); with
        ``live_only``, on work live refreshes asked for: what they measure their share of the machine by."""
        with self._lock:
            now = time.monotonic()
            running = sum(now - t for thread, t in self._running_since.items() if not live_only or self._running_live[thread])
            return (self._live_busy_s if live_only else self._busy_s) + running

    def work_windows(self, since: float, live_only: bool = False) -> list[tuple[float, float]]:
        """When the workers worked (``live_only``: on live refreshes' work), as ``(start, end)`` spans that
        end after ``since`` (work still running ends at ``inf``): what training steps are compared against."""
        with self._lock:
            spans = [(start, end) for start, end, live in self._windows if end > since and (live or not live_only)]
            spans += [(t, float("inf")) for thread, t in self._running_since.items() if self._running_live[thread] or not live_only]
        return spans

    def pending(self) -> bool:
        """Whether any work is queued or running."""
        with self._lock:
            return bool(self._running_since) or any(self._queues[lane] for lane in LANES)

    def _execute(self, entry: _Entry) -> None:
        thread = threading.get_ident()
        with self._lock:
            outermost = thread not in self._running_since  # work that computes other work runs it inline
            if outermost:
                self._running_since[thread] = time.monotonic()
                self._running_live[thread] = entry.live
        try:
            self._execute_timed(entry)
        finally:
            if outermost:
                with self._lock:
                    started, ended = self._running_since.pop(thread), time.monotonic()
                    live = self._running_live.pop(thread)
                    self._busy_s += ended - started
                    self._live_busy_s += (ended - started) if live else 0.0
                    self._windows.append((started, ended, live))

    def _execute_timed(self, entry: _Entry) -> None:
        try:
            value, ok = entry.run(entry.job), True
        except Cancelled:
            with self._lock:
                if (entry.slots or entry.waiters) and not self._closed:
                    entry.state, entry.job, entry.seq = "queued", None, next(self._seq)
                    self._queues[entry.lane].append(entry)
                    self._start(entry.lane)
                    self._wake[entry.lane].notify()
                    return
            value, ok = Cancelled("the result was no longer wanted"), False
        except Exception as error:  # delivered to the views that asked, shown there
            value, ok = error, False
        if ok:
            entry.cache.put(entry.key, value, entry.keep)
        with self._lock:
            entry.state, entry.ok, entry.value = "done", ok, value
            self._entries.pop((id(entry.cache), entry.key), None)
            slots = list(entry.slots)
        entry.done.set()
        for slot in slots:
            slot.finish(entry.key, ok, value)

    # -- ending -------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Drop queued work, ask running work to stop, let the workers end (called at exit)."""
        with self._lock:
            self._closed = True
            for lane in LANES:
                for entry in self._queues[lane]:
                    self._entries.pop((id(entry.cache), entry.key), None)
                    entry.state, entry.ok, entry.value = "done", False, Cancelled("nnwidgets is shutting down")
                    entry.done.set()
                self._queues[lane].clear()
                self._wake[lane].notify_all()
            for entry in self._entries.values():
                if entry.job is not None:
                    entry.job.cancel()


_scheduler = Scheduler()


def scheduler() -> Scheduler:
    """The process's one scheduler."""
    return _scheduler


def _training_under_way() -> bool:
    """Whether some model is training (then a job leaves the other cores to it: :mod:`.torch_threads`)."""
    from .live import ticker  # live imports this module

    return ticker().any_moving()
