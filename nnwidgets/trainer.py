"""Trainer: a playground that trains your own model on your own data, with play, pause, step and reset."""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np
import torch
import traitlets
from matplotlib.figure import Figure
from torch import nn

from . import _cells
from ._view import View, reject_unknown_kwargs, static_file
from .core import Inspector, encode_array, ensure_module
from .core.figures import new_figure
from .core.steps import listeners_of
from .core.trainer_pacer import Pacer
from .core.trainer import OPTIMIZERS, TrainingLoop, as_inputs, as_targets, check_batch_size, check_lr, optimizer_class

CURVE_POINTS = 400  # points of each curve sent to the page (the history keeps up to 4,096)


def thinned(steps: np.ndarray, values: np.ndarray, points: int = CURVE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``points`` evenly strided pairs, always ending with the last one.

    >>> thinned(np.arange(10), np.arange(10.0), points=4)[0].tolist()
    [0, 4, 8, 9]
    """
    if len(steps) <= points:
        return steps, values
    stride = -(-len(steps) // (points - 1))
    keep = np.unique(np.r_[np.arange(0, len(steps), stride), len(steps) - 1])
    return steps[keep], values[keep]


_trainers: "weakref.WeakSet[Trainer]" = weakref.WeakSet()


def _halt_all() -> None:
    for trainer in list(_trainers):
        trainer._halt()


try:
    threading._register_atexit(_halt_all)  # runs before the interpreter tears down
except (AttributeError, RuntimeError):
    pass


class Trainer(View):
    """Train your own model on your own data from the notebook: ▶ play / ⏸ pause, one step, reset,
    the learning rate (log slider and exact number), the optimizer and the batch size, with the loss
    curve and step and epoch counters. Other views of the same model follow the training live.

    ``Trainer(model, X, y, ...)`` trains on ``X`` (any tensor or array with one sample per row along
    its first axis) and ``y``; ``Trainer(inspector)`` on the inspector's data and labels (its
    ``preprocess`` applies). ``loss``: ``"cross_entropy"`` (classification, ``y`` = class indices),
    ``"mse"`` (regression) or a ``callable(outputs, targets)``; by default cross-entropy for integer
    ``y`` (or a classification inspector), else MSE. ``optimizer``: ``"adam"``, ``"sgd"``,
    ``"sgd_momentum"`` (momentum 0.9), ``"rmsprop"``, ``"adamw"`` or a ``torch.optim.Optimizer`` class.

    Mini-batches are shuffled with ``seed``: epoch after epoch ``torch.randperm(len(X), generator=g)``
    with one ``g = torch.Generator().manual_seed(seed)``, cut into ``batch_size`` slices, so a run
    repeats (dropout still draws from torch's global generator). ``history["loss"]`` (and, for class
    indices, ``history["accuracy"]``) holds ``(step, value)`` for each step's batch, measured before
    that step's update; step numbers count from 1.

    This is the one view that changes the model: it trains it because you ask it to (each module is
    put in training mode for a step and back to its own mode after). It is also the one place where
    nnwidgets copies weights: the initial parameters and buffers, so that ``reset()`` can put them back
    exactly, in place (the same tensor objects, so views and your own references stay valid).

    In a notebook, ``play()`` (or ▶) trains in a background thread *between* cells: the kernel stays
    free for clicks, and training pauses while any cell runs (the step in progress finishes first),
    then goes on. In a script it trains until ``pause()``. An error while training (a NaN loss, a
    shape mismatch) stops play and shows in the widget; ``step(n)`` raises it too.

    Example::

        import torch, nnwidgets as nw
        torch.manual_seed(0)
        X = torch.randn(512, 2); y = (X[:, 0] * X[:, 1] > 0).long()
        net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
        trainer = nw.Trainer(net, X, y, loss="cross_entropy", optimizer="adam", lr=1e-2, batch_size=64)
        trainer                      # ▶ trains between cells; the curve and counters follow
        trainer.step(100)            # or train from Python: returns the last batch's loss
        trainer.history["loss"][-1]  # (100, ...)
        trainer.lr = 3e-3; trainer.optimizer = "sgd_momentum"
        trainer.reset()              # the exact initial weights, step 0

    >>> import torch
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> X = torch.randn(256, 2); y = (X[:, 0] > 0).long()
    >>> t = Trainer(torch.nn.Linear(2, 2), X, y, lr=0.05, batch_size=32)
    >>> first = t.step(); last = t.step(40)
    >>> last < first, t.step_count, t.epoch, t.history["loss"][-1][0]
    (True, 41, 5.125, 41)
    >>> t.reset(); t.step_count, t.history
    (0, {})
    """

    _esm = static_file("trainer.js")
    _css = static_file("trainer.css")

    lr = traitlets.Float(1e-3, help="learning rate (> 0)").tag(sync=True)
    optimizer = traitlets.Union([traitlets.Unicode(), traitlets.Type(klass=torch.optim.Optimizer)],
                                default_value="adam", help="optimizer name (or a torch.optim.Optimizer class)").tag(sync=True)
    optimizers = traitlets.List(traitlets.Unicode(), read_only=True, help="optimizer names to choose from").tag(sync=True)
    batch_size = traitlets.Int(64, help="rows per mini-batch (≥ 1)").tag(sync=True)
    playing = traitlets.Bool(False, help="training in the background between cells").tag(sync=True)
    loss = traitlets.Unicode("", read_only=True, help="the loss's name").tag(sync=True)
    rows = traitlets.Int(0, read_only=True, help="rows in the training data").tag(sync=True)
    run_state = traitlets.Dict(read_only=True, help="what the page shows: step, epoch, last loss, curves").tag(sync=True)

    def __init__(self, source: Any, X: Any = None, y: Any = None, *, loss: Any = None, optimizer: Any = "adam",
                 lr: float = 1e-3, batch_size: int = 64, seed: int = 0, **kwargs: Any) -> None:
        reject_unknown_kwargs(self, kwargs)
        if isinstance(source, Inspector):
            if X is not None or y is not None:
                raise TypeError("Trainer(inspector) takes no X or y: it trains on the inspector's data and labels")
            inspector = source
            loop = self._loop_on_inspector(inspector, loss, optimizer, lr, batch_size, seed)
        else:
            model = ensure_module(source)
            inputs = as_inputs(X)
            if loss is None:
                target_kind = y.dtype.is_floating_point if isinstance(y, torch.Tensor) else np.asarray(y).dtype.kind == "f"
                loss = "mse" if target_kind else "cross_entropy"
            name = loss if isinstance(loss, str) else "callable"
            targets = as_targets(y, name, len(inputs))
            loop = TrainingLoop(model, lambda rows: inputs[rows], targets, loss=loss, optimizer=optimizer, lr=lr,
                                batch_size=batch_size, seed=seed)
            inspector = Inspector(model)
        self._loop = loop
        self._custom: dict[str, type[torch.optim.Optimizer]] = {}
        if not isinstance(optimizer, str):
            self._custom[loop.optimizer_name] = optimizer
        self._quiet = True
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._in_step = False
        self._stopping = False
        self._gate = None
        self._pacer = Pacer(self._send_state)
        super().__init__(inspector, **kwargs)
        _trainers.add(self)
        with self.hold_sync():
            self.set_trait("optimizers", [*OPTIMIZERS, *self._custom])
            self.lr, self.optimizer, self.batch_size = loop.lr, loop.optimizer_name, loop.batch_size
            self.set_trait("loss", loop.loss_name)
            self.set_trait("rows", loop.n_rows)
            self._send_state(0)
        self._quiet = False
        self._gate = _cells.gate()
        if self._gate is not None:
            self._gate.add(self)

    @staticmethod
    def _loop_on_inspector(inspector: Inspector, loss: Any, optimizer: Any, lr: float, batch_size: int,
                           seed: int) -> TrainingLoop:
        data = inspector.require_data("Trainer")
        if inspector.labels is None:
            raise ValueError("the inspector has no labels to train on: make it with nw.Inspector(model, X, y=...)")
        if loss is None:
            loss = "cross_entropy" if data.mode == "classification" else "mse"
        targets = as_targets(inspector.labels, loss if isinstance(loss, str) else "callable", data.n_rows)
        X = data.X

        def inputs(rows: torch.Tensor) -> torch.Tensor:
            return inspector.predictor.inputs(X[rows.numpy()])

        return TrainingLoop(inspector.model, inputs, targets, loss=loss, optimizer=optimizer, lr=lr,
                            batch_size=batch_size, seed=seed)

    # -- what Python reads --------------------------------------------------------------------
    @property
    def model(self) -> nn.Module:
        return self._loop.model

    @property
    def step_count(self) -> int:
        """Optimizer steps taken since the start (or the last reset)."""
        return self._loop.steps

    @property
    def epoch(self) -> float:
        """Passes over the data so far: rows seen / rows."""
        return self._loop.epoch

    @property
    def last_loss(self) -> float | None:
        return self._loop.last_loss

    @property
    def history(self) -> dict[str, list[tuple[int, float]]]:
        """``{"loss": [(step, value), ...], "accuracy": [...]}`` (accuracy for class-index targets only)."""
        return self._loop.history.as_dict()

    @property
    def torch_optimizer(self) -> torch.optim.Optimizer:
        """The optimizer in use (a new one after each optimizer change or reset)."""
        return self._loop.optimizer

    # -- options ------------------------------------------------------------------------------
    @traitlets.validate("lr")
    def _check_lr(self, proposal: dict) -> float:
        return check_lr(proposal["value"])

    @traitlets.validate("batch_size")
    def _check_batch_size(self, proposal: dict) -> int:
        return check_batch_size(proposal["value"])

    @traitlets.validate("optimizer")
    def _check_optimizer(self, proposal: dict) -> str:
        value = proposal["value"]
        if isinstance(value, str) and value in getattr(self, "_custom", {}):
            return value
        name, cls, _ = optimizer_class(value)
        if not isinstance(value, str):
            self._custom[name] = cls
            self.set_trait("optimizers", [*OPTIMIZERS, *self._custom])
        return name

    @traitlets.observe("lr", "batch_size", "optimizer")
    def _on_option(self, change: dict) -> None:
        if self._quiet:
            return
        name, value = change["name"], change["new"]
        if name == "lr":
            self._loop.set_lr(value)
        elif name == "batch_size":
            self._loop.set_batch_size(value)
        else:
            self._loop.set_optimizer(self._custom.get(value, value))
        self._clear_error()
        self._pacer.offer()

    @traitlets.observe("playing")
    def _on_playing(self, change: dict) -> None:
        if self._quiet:
            return
        if change["new"]:
            self._clear_error()
            with self._cond:
                if self._thread is None and not self._stopping:
                    self._start_playing()
                self._cond.notify_all()
        else:
            with self._cond:
                self._cond.notify_all()
                if threading.current_thread() is not self._thread:
                    while self._in_step:  # the step in progress ends before pause() returns
                        self._cond.wait()
            self._pacer.offer()

    # -- training -----------------------------------------------------------------------------
    def play(self) -> None:
        """Train in a background thread until :meth:`pause` (in a notebook: only while no cell runs)."""
        self.playing = True

    def pause(self) -> None:
        """Stop playing; returns once the step in progress has finished."""
        self.playing = False

    def step(self, n: int = 1) -> float:
        """Train ``n`` mini-batch steps on the calling thread; returns the last batch's loss."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a whole number ≥ 1, got {n!r}")
        result = None
        try:
            for _ in range(int(n)):
                result = self._loop.step()
                self._pacer.offer()
        except Exception as error:
            self._failed(error)
            raise
        self._clear_error()
        return result.loss

    def reset(self) -> None:
        """Pause, put the initial weights and buffers back (in place), a fresh optimizer, step 0 and an
        empty history; the batches start over from the first epoch's order."""
        self.pause()
        self._loop.reset()
        self._clear_error()
        optimizer = self._loop.optimizer
        for listener in listeners_of(optimizer):  # every inspector of the model hears it (a monitor counts no step)
            moved = getattr(listener, "moved", None)
            if moved is not None:
                moved()
        self._pacer.offer()

    def _blocked(self) -> bool:
        return self._gate is not None and self._gate.in_cell

    def _start_playing(self) -> None:
        """(Under the condition.) A fresh thread trains: one that waited through a cell would keep its team of
        OpenMP threads meanwhile, and beside the cell's own team that slows the user's torch code 2-3x."""
        self._thread = threading.Thread(target=self._play, name="nnwidgets-trainer", daemon=True)
        self._thread.start()

    def _play(self) -> None:
        while True:
            with self._cond:
                if not self.playing or self._stopping or self._blocked():  # a cell runs: release() starts a new thread
                    self._thread = None
                    self._cond.notify_all()
                    return
                self._in_step = True
            try:
                self._loop.step()
            except Exception as error:
                with self._cond:
                    self._in_step = False
                    self._thread = None
                    self._cond.notify_all()
                self._failed(error)
                return
            with self._cond:
                self._in_step = False
                self._cond.notify_all()
            if self.error:
                self._clear_error()
            self._pacer.offer()

    # cell gate (nnwidgets/_cells.py)
    def hold(self) -> None:
        """A cell is about to run: return once the step in progress has finished."""
        with self._cond:
            while self._in_step and threading.current_thread() is not self._thread:
                self._cond.wait()

    def release(self) -> None:
        """The cell finished: go on playing if playing."""
        with self._cond:
            self._cond.notify_all()
            if self.playing and not self._stopping and self._thread is None:
                self._start_playing()

    # -- the page -----------------------------------------------------------------------------
    def on_message(self, content: dict) -> None:
        event = content.get("event")
        if event == "drawn":
            self._pacer.drawn(int(content.get("seq", 0)))
        elif event in ("step", "reset") and self._blocked():
            # Only with kernel subshells can a click arrive while a cell runs: training never overlaps a cell.
            self._record_error("page", RuntimeError(f"{event} not done: a cell is running; click again once it has finished"))
        elif event == "step":
            try:
                self.step(1)
            except Exception:
                pass  # shown in the widget by step()
        elif event == "reset":
            try:
                self.reset()
            except Exception as error:
                self._record_error("reset", error)

    def _send_state(self, seq: int) -> None:
        with self._loop.lock:
            loop = self._loop
            history = loop.history
            state: dict[str, Any] = {"seq": seq, "step": loop.steps, "epoch": loop.epoch, "loss": loop.last_loss}
            names = history.names()
            series = {name: history.series(name) for name in names}
            curves = {name: (s.steps, s.values) for name, s in series.items()}
        for name in ("loss", "accuracy"):
            if name in curves:
                steps, values = thinned(*curves[name])
                state[f"{name}_steps"] = encode_array(steps.astype(np.int32))
                state[f"{name}_values"] = encode_array(values)
        accuracy = curves.get("accuracy")
        state["accuracy"] = float(accuracy[1][-1]) if accuracy is not None and len(accuracy[1]) else None
        self.set_trait("run_state", state)

    def _failed(self, error: Exception) -> None:
        self._record_error("training", error)
        self.set_trait("playing", False)
        self._pacer.offer()

    def _clear_error(self) -> None:
        with self._lock:
            changed = bool(self._errors)
            self._errors.clear()
        if changed:
            self._show_status()

    def describe_failure(self, name: str) -> str:
        return {"training": "training stopped", "page": "waiting for the cell"}.get(name, f"{name} failed")

    def _halt(self) -> None:
        """At interpreter exit: stop playing and wait for the step in progress (a daemon thread still
        inside torch while Python finalises aborts the process)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        self._pacer.cancel()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    def close(self) -> None:
        """Stop playing, stop listening to cells, close the widget."""
        if "_pacer" not in self.__dict__:  # its __init__ failed before anything started
            return super().close()
        with self._cond:
            self._stopping = True  # the play thread ends after its step
            self._cond.notify_all()
        if self.playing:
            self.set_trait("playing", False)
        self._pacer.cancel()
        if self._gate is not None:
            self._gate.discard(self)
        super().close()

    # -- pictures -----------------------------------------------------------------------------
    def figure(self) -> Figure:
        """The loss (and batch accuracy) per step as a matplotlib Figure."""
        history = self.history
        fig = new_figure(7, 3.2)
        ax = fig.add_subplot()
        loss = history.get("loss", [])
        if not loss:
            ax.text(0.5, 0.5, "no steps yet: call step() or press ▶", ha="center", va="center")
            ax.set_axis_off()
            return fig
        steps, values = zip(*loss)
        ax.plot(steps, values, color="#4477aa", lw=1, label=f"loss ({self.loss})")
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        if min(values) > 0 and max(values) / min(values) > 20:
            ax.set_yscale("log")
        if history.get("accuracy"):
            acc = ax.twinx()
            a_steps, a_values = zip(*history["accuracy"])
            acc.plot(a_steps, a_values, color="#ee6677", lw=1, alpha=0.8, label="batch accuracy")
            acc.set_ylim(0, 1)
            acc.set_ylabel("batch accuracy")
            acc.legend(loc="upper right", fontsize=8, frameon=False)
        ax.legend(loc="upper left", fontsize=8, frameon=False)
        ax.set_title(f"{type(self.model).__name__} · {self._loop.optimizer_name}, lr {self._loop.lr:g}, "
                     f"batch {self._loop.batch_size} · epoch {self.epoch:.2f}", fontsize=9)
        return fig
