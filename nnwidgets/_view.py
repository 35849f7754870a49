"""What every view shares: its inspector (given, or made from a model and data), its slots in the
scheduler (busy, status, progress and errors shown in the widget), and its lifecycle: a view out of
sight does no work, a closed view lets go of the model."""

from __future__ import annotations

import pathlib
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

import traitlets

from . import _live
from ._sync import ThreadSafeWidget
from .core import Inspector, ModelChanged
from .core.live import MAX_MESSAGES_PER_S
from .core.live import messages as live_messages
from .core.scheduler import Slot, scheduler
from .core.tasks import NotReady, Task

_STATIC = pathlib.Path(__file__).parent / "static"

_MISSING_BUNDLE = """
export default { render({ el }) {
  el.textContent = "nnwidgets: the front-end bundle is missing; run `npm run build` in the source tree.";
} };
"""

SELECTION_NAMES = ("row", "values", "target_class", "selected_layer")
INSPECTOR_ARGS = ("y", "feature_names", "class_names", "mode", "output", "preprocess", "channels_last", "row", "target_class", "selected_layer")
_WIDGET_PLUMBING = {"comm", "keys", "log", "tabbable", "tooltip", "layout", "children", "box_style"}


def static_file(name: str) -> str:
    """A bundled front-end file's text, or (JS only) a stand-in that says the bundle was never built.
    Text, not a path: anywidget watches a path for edits and keeps every widget built from it alive."""
    path = _STATIC / name
    if path.exists():
        return path.read_text(encoding="utf-8")
    return _MISSING_BUNDLE if name.endswith(".js") else ""


def reject_unknown_kwargs(owner: Any, kwargs: dict, extra: tuple[str, ...] = ()) -> None:
    """Raise a ``TypeError`` for keyword arguments that are not traits of ``owner``."""
    known = set(owner.trait_names()) | set(extra)
    unknown = sorted(set(kwargs) - known)
    if unknown:
        public = sorted(n for n in known if not n.startswith("_") and n not in _WIDGET_PLUMBING)
        raise TypeError(
            f"{type(owner).__name__}() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
            f"accepted: {', '.join(public)}"
        )


def inspector_for(owner: Any, source: Any, X: Any, kwargs: dict) -> Inspector:
    """``source`` itself if it is an Inspector, else a private Inspector of ``source`` (a model) and
    ``X``, built from the inspector arguments in ``kwargs`` (taken out of it). A view's own option of
    the same name (Attributions' ``output``) stays the view's."""
    own = {n for n, t in owner.traits().items() if not t.read_only} if hasattr(owner, "traits") else set()
    given = {k: kwargs.pop(k) for k in INSPECTOR_ARGS if k in kwargs and k not in own - set(SELECTION_NAMES)}
    owner = type(owner).__name__ if not isinstance(owner, str) else owner
    if isinstance(source, Inspector):
        if X is not None or given:
            what = ", ".join(["X"] * (X is not None) + sorted(given))
            raise TypeError(f"{owner}(inspector, ...) takes no {what}: the inspector holds the data and the selection; "
                            f"pass them to nw.Inspector(model, X, ...) instead")
        return source
    return Inspector(source, X, **given)


class View(ThreadSafeWidget):
    """Base of every view. ``View(inspector)`` shows an existing :class:`~nnwidgets.Inspector`;
    ``View(model, X, feature_names=..., ...)`` makes a private one from the same arguments."""

    busy = traitlets.Bool(False, read_only=True).tag(sync=True)
    error = traitlets.Unicode("", read_only=True).tag(sync=True)
    status = traitlets.Unicode("", read_only=True, help="what runs for this view, and how far it is").tag(sync=True)
    progress = traitlets.Float(-1.0, read_only=True, help="0–1 while slow work runs with known progress; -1 otherwise").tag(sync=True)
    auto_refresh = traitlets.Bool(True, help="refresh after a notebook cell changed the model, and while it trains")
    live_rate = traitlets.Float(4.0, min=0.0, help="redraws per second at most while the model trains (0: only after)")

    needs_data: ClassVar[bool] = False
    # Selection traits of the inspector that this view mirrors both ways (the subclass declares the traits).
    mirrors: ClassVar[tuple[str, ...]] = ()

    def __init__(self, source: Any, X: Any = None, **kwargs: Any) -> None:
        self.inspector = inspector_for(self, source, X, kwargs)
        if self.needs_data:
            self.inspector.require_data(type(self).__name__)
        reject_unknown_kwargs(self, kwargs)
        self._lock = threading.RLock()
        self._slots: dict[str, Slot] = {}
        self._errors: dict[str, str] = {}
        self._statuses: dict[str, tuple[str, float | None]] = {}
        self._shown = 0
        self._shown_alone = 0  # displays of its own, not inside a layout
        self._ever_shown = False
        self._closed = False
        self._parked = False
        self._stale: set[str] = set()
        self._deferred: dict[str, tuple[Task, Callable[[Any], None]]] = {}
        self._last_live = 0.0
        self._following: int | None = None  # the thread copying the inspector's selection into the traits
        self._follow_lock = threading.RLock()
        self._followed: dict[str, tuple[Any, Any]] = {}  # name -> (the inspector's object, the trait's) last copied
        self._ready = False
        super().__init__(**kwargs)
        self._follow(set(SELECTION_NAMES))
        self.inspector.observe(self._on_inspector)
        self.on_msg(self._on_message)
        _live.watch(self)
        self._ready = True
        self._update_safely({*SELECTION_NAMES, "model"})

    # -- following the inspector --------------------------------------------------------------
    def _follow(self, changes: set[str]) -> None:
        """Copy the inspector's selection into this view's mirrored traits (one thread at a time). The
        inspector hands out the same object until its selection changes: where both it and this view's
        trait still hold the objects last copied, nothing is set again (a training step's refresh
        re-follows everything, and setting 64 values checks each one)."""
        with self._follow_lock:
            new = {}
            for name in self.mirrors:
                if name in changes:
                    value = getattr(self.inspector, name)
                    last = self._followed.get(name)
                    if last is None or value is not last[0] or getattr(self, name) is not last[1]:
                        new[name] = value
            if not new:
                return
            self._following = threading.get_ident()
            try:
                with self.hold_sync():
                    for name, value in new.items():
                        setattr(self, name, value.tolist() if name == "values" else value)
                        self._followed[name] = (value, getattr(self, name))
            finally:
                self._following = None

    def _on_inspector(self, changes: frozenset[str]) -> None:
        if self._closed:
            return
        if changes == {"settled"}:  # training paused: what a live refresh skipped is drawn now
            if self.working:
                self._catch_up()
                with self._lock:
                    deferred, self._deferred = self._deferred, {}
                for name, (task, deliver) in deferred.items():
                    self.request(name, task, deliver)
            return
        if "live" in changes and not self._live_due():
            self._stale |= changes - {"live"}  # drawn at the next refresh this view takes, or after training
            return
        self._follow(set(SELECTION_NAMES) if "model" in changes else set(changes))
        if self.working:
            stale, self._stale = self._stale, set()
            self._update_safely(set(changes) | stale)
        else:
            self._stale |= changes

    def _live_due(self) -> bool:
        """Whether a refresh while the model trains may redraw this view now (``live_rate``)."""
        now = time.monotonic()
        if not self.auto_refresh or self.live_rate <= 0 or now - self._last_live < 1 / self.live_rate:
            return False
        if live_messages.per_second() > MAX_MESSAGES_PER_S * 0.6:  # many views: the later ones wait for the pause
            return False
        self._last_live = now
        return True

    def _forward(self, name: str, value: Any) -> None:
        """A mirrored trait changed here (in the page or from Python): make it the inspector's selection."""
        if self._following != threading.get_ident() and self._ready:
            setattr(self.inspector, name, value)

    def _validated(self, name: str, value: Any) -> Any:
        if self.inspector is None:
            raise traitlets.TraitError(f"this {type(self).__name__} is closed: its {name} cannot change")
        check = getattr(self.inspector, f"check_{name}")
        try:
            checked = check(value)
        except (TypeError, ValueError) as error:
            raise traitlets.TraitError(str(error)) from None
        return checked.tolist() if name == "values" else checked

    @traitlets.validate(*SELECTION_NAMES)
    def _check_mirrored(self, proposal: dict) -> Any:
        name = proposal["trait"].name
        if self._following == threading.get_ident() or name not in self.mirrors:
            return proposal["value"]
        return self._validated(name, proposal["value"])

    @traitlets.observe(*SELECTION_NAMES)
    def _on_mirrored(self, change: dict) -> None:
        if change["name"] in self.mirrors:
            self._forward(change["name"], change["new"])

    def _update_safely(self, changes: set[str]) -> None:
        try:
            self.update(changes)
        except Exception as error:  # shown in the widget; never raised into the user's cell
            self._record_error("update", error)

    def update(self, changes: set[str]) -> None:
        """Recompute (or request) what this view shows after ``changes`` (names of what changed)."""

    def refresh(self) -> None:
        """Recompute everything from the model as it is now."""
        self.inspector.refresh()

    # -- asking the scheduler -----------------------------------------------------------------
    def request(self, name: str, task: Task, deliver: Callable[[Any], None]) -> None:
        """Show ``task``'s result through ``deliver`` once ready; the newest request per ``name`` wins.
        While the model trains, work over the data that runs the model (fits, passes over X) waits
        until training pauses: it would be stale before it ended, and it would slow the training."""
        if self._closed:
            return
        if task.lane == "slow" and task.runs_model and self.inspector.deferring_slow_work:
            with self._lock:
                self._deferred[name] = (task, deliver)
                self._statuses[name] = (f"{task.describe(self.inspector)}: waits for training to pause", None)
            self._show_status()
            return
        self._deferred.pop(name, None)
        with self._lock:
            slot = self._slots.get(name)
            if slot is None:
                slot = self._slots[name] = Slot(
                    lambda result, n=name: self._delivered(n, result),
                    lambda error, n=name: self._failed(n, error),
                    lambda text, fraction, n=name: self._progress(n, text, fraction),
                )
            self._statuses[name] = (task.describe(self.inspector), None)
        with slot.lock:  # a late result of the previous request must not meet this request's `deliver`
            slot.deliver_to = deliver
            self.inspector.request(slot, task)
        self._show_status()  # after: a result delivered at once (cached, or quick work) never flashes "busy"

    def withdraw(self, name: str) -> None:
        """Stop wanting the result last requested under ``name`` (the view shows something else now)."""
        slot = self._slots.get(name)
        if slot is not None:
            scheduler().withdraw(slot)
            with self._lock:
                self._statuses.pop(name, None)
            self._show_status()

    def _delivered(self, name: str, result: Any) -> None:
        slot = self._slots[name]
        try:
            slot.deliver_to(result)
        except Exception as error:
            self._record_error(name, error, settled=True)
            return
        with self._lock:
            self._errors.pop(name, None)
            self._statuses.pop(name, None)
        self._show_status(settled=name)

    def _failed(self, name: str, error: Exception) -> None:
        self._record_error(name, error, settled=True)

    def _record_error(self, name: str, error: Exception, settled: bool = False) -> None:
        with self._lock:
            self._statuses.pop(name, None)
            if isinstance(error, (ModelChanged, NotReady)):  # a state to say, not a failure
                self._statuses[name] = (str(error), None)
                self._errors.pop(name, None)
            else:
                self._errors[name] = f"{self.describe_failure(name)}: {error}"
        self._show_status(settled=name if settled else None)

    def describe_failure(self, name: str) -> str:
        return f"{name} failed"

    def _progress(self, name: str, text: str, fraction: float | None) -> None:
        with self._lock:
            self._statuses[name] = (text, fraction)
        self._show_status()

    def _show_status(self, settled: str | None = None) -> None:
        with self._lock:
            pending = [n for n, s in self._slots.items() if not s.settled.is_set() and n != settled]
            running = [self._statuses[n] for n in pending if n in self._statuses]
            running.sort(key=lambda s: s[1] is None)
            text, fraction = running[0] if running else ("", None)
            stale = [t for n, (t, _) in self._statuses.items() if n not in pending and t]
            error = "; ".join(self._errors.values())
            with self.hold_sync():
                self.set_trait("busy", bool(pending))
                self.set_trait("status", text if pending else (stale[0] if stale else ""))
                self.set_trait("progress", -1.0 if fraction is None or not pending else float(fraction))
                self.set_trait("error", error)

    def ready_to_draw(self) -> None:
        """Wait for this view's results; a ``ValueError`` saying why if it has none to draw (its error)."""
        self.wait()
        if self.error:
            raise ValueError(f"{type(self).__name__} has nothing to draw: {self.error}")

    def wait(self, timeout: float | None = 120) -> "View":
        """Block until every result this view asked for has arrived, including what those results
        asked for in turn (a GAM fit, then its terms for the row). For scripts and tests."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self._catch_up()  # asked for explicitly: a view out of sight or in a hidden tab computes too
        if self._deferred:  # work waiting for training to pause: it is asked for once it pauses
            self.inspector.wait_for_pause(None if deadline is None else max(0.0, deadline - time.monotonic()))
        while True:
            with self._lock:
                pending = [s for s in self._slots.values() if not s.settled.is_set()]
            if not pending:
                return self
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return self
            pending[0].settled.wait(left)

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def live(self) -> bool:
        """Whether the view does work: not closed, and shown in a page or never displayed yet (a
        script, or a view built before its cell's output appears). Out of sight, it only notes what
        it missed and catches up when shown again."""
        return not self._closed and (self._shown > 0 or not self._ever_shown)

    def _on_message(self, _widget: Any, content: dict, _buffers: list) -> None:
        if content.get("event") == "view":
            self._on_view(bool(content.get("shown")), bool(content.get("in_layout")))
        else:
            self.on_message(content)

    def on_message(self, content: dict) -> None:
        """A custom message from the page (other than view bookkeeping)."""

    @property
    def working(self) -> bool:
        """Whether the view computes what changed now: live, and not parked by its layout (in a hidden
        tab, or in a layout off the page) unless it is also displayed on its own."""
        return self.live and (not self._parked or self._shown_alone > 0)

    def park(self, parked: bool) -> None:
        """Called by a layout that hides (``True``) or shows this view (its tab chosen or not, the
        layout on the page or not): while parked, changes are only noted; they are computed once the
        view shows again."""
        self._parked = parked
        if self.working:
            self._catch_up()

    def _catch_up(self) -> None:
        if self._stale and not self._closed:
            stale, self._stale = self._stale, set()
            self._update_safely(stale)

    def _on_view(self, shown: bool, in_layout: bool = False) -> None:
        self._shown = max(0, self._shown + (1 if shown else -1))
        if not in_layout:
            self._shown_alone = max(0, self._shown_alone + (1 if shown else -1))
        self._ever_shown = self._ever_shown or shown
        if self.working:
            self._catch_up()
        if not self.live:
            _live.went_out_of_sight(self)

    def close(self) -> None:
        """Stop all work of this view, let go of its inspector (and so of the model), close the widget."""
        if not getattr(self, "_closed", True):
            self._closed = True
            for slot in self._slots.values():
                scheduler().withdraw(slot)
            self.inspector.unobserve(self._on_inspector)
            self.inspector = None
        super().close()


