"""TrainingMonitor: a model's training as it happens — loss and logged metrics, per-layer weight and
gradient norms, update/weight ratios and dead units, warnings, and a slider back through training."""

from __future__ import annotations

import atexit
import math
import threading
import weakref
from typing import Any, ClassVar

import numpy as np
import traitlets
from matplotlib.figure import Figure

from ._view import View, static_file
from .core import diverging_lut, encode_array
from .core.heatmap import Heatmap
from .core.live import QUIET_S, ticker
from .core.training_figures import draw_training
from .core.training_monitor import DUTY, STATS, TrainingRecorder, probe_rows, series_name
from .weight_heatmap import heatmap_payload

MAX_CURVE_POINTS = 2000  # per metric sent to the page
MAX_LAYER_VALUES = 60_000  # all layer statistics sent to the page together
_monitors: "weakref.WeakSet[TrainingMonitor]" = weakref.WeakSet()
_exiting = False


@atexit.register
def _quiet_at_exit() -> None:
    """No redraw may start once the interpreter shuts down, and one under way is waited for: a thread
    still inside a torch kernel while Python finalises aborts the process."""
    global _exiting
    _exiting = True
    for monitor in list(_monitors):
        if monitor._redraw_lock.acquire(timeout=2):
            monitor._redraw_lock.release()


def even_indices(n: int, k: int) -> np.ndarray:
    """At most ``k`` indices into ``range(n)``, evenly spread, first and last included.

    >>> even_indices(10, 4).tolist(), even_indices(3, 5).tolist()
    ([0, 3, 6, 9], [0, 1, 2])
    """
    if n <= k:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max(k, 2))).astype(int))


def curves_payload(history: dict[str, list[tuple[int, float]]], names: list[str]) -> dict:
    """The logged metrics, each as binary step and value buffers (thinned to ``MAX_CURVE_POINTS``)."""
    series = []
    for name in names:
        pairs = history.get(name, [])
        keep = even_indices(len(pairs), MAX_CURVE_POINTS)
        steps = np.array([pairs[i][0] for i in keep], dtype=np.int64)
        values = np.array([pairs[i][1] for i in keep], dtype=np.float64)
        series.append({"steps": encode_array(steps), "values": encode_array(values), "recorded": len(pairs)})
    return {"names": list(names), "series": series}


def layers_payload(history: dict[str, list[tuple[int, float]]], layers: list[str]) -> dict:
    """Every layer's statistics on one shared step axis: per statistic a layers × steps matrix (NaN
    where a statistic was not recorded at that step)."""
    names = [series_name(layer, stat) for layer in layers for stat in STATS]
    steps = sorted({s for n in names for s, _ in history.get(n, [])})
    points = max(16, MAX_LAYER_VALUES // max(1, len(STATS) * len(layers)))
    axis = np.array(steps, dtype=np.int64)[even_indices(len(steps), points)]
    payload: dict[str, Any] = {"layers": list(layers), "steps": encode_array(axis)}
    for stat in STATS:
        matrix = np.full((len(layers), len(axis)), np.nan)
        for i, layer in enumerate(layers):
            pairs = history.get(series_name(layer, stat), [])
            if not pairs or not len(axis):
                continue
            s = np.array([p[0] for p in pairs])
            v = np.array([p[1] for p in pairs], dtype=np.float64)
            at = np.searchsorted(s, axis).clip(0, len(s) - 1)
            matrix[i] = np.where(s[at] == axis, v[at], np.nan)
        payload[stat] = encode_array(matrix)
    return payload


def _number(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


class TrainingMonitor(View):
    """Watches a model train, with no change to the training loop: the optimizer's steps are heard
    through torch's global step hooks (nothing is set on the model or the optimizer).

    Shows the loss and any metric passed to :meth:`log`, and per layer (every module that owns
    weights, named as in ``named_modules()``) the weight norm, the gradient norm, the update/weight
    ratio ‖Δw‖/‖w‖ of each step (healthy near 1e-3) and, when the inspector has data, the share of
    dead ReLU units on a fixed probe batch of up to 256 rows of X. Statistics are sampled so that they
    take at most ``duty`` (0.3 %) of the wall time. ``warnings`` lists exploding or vanishing gradients,
    update ratios far from 1e-3 and rising dead units, each with a one-line explanation. ``step`` scrubs
    back through training: the selected layer's weights (pooled to ≤ 48×48 cells, extremes kept) and
    statistics as they were then (-1: now). Memory stays under 50 MB (``memory_bytes``), however many
    layers the model has.

    Steps count ``optimizer.step()`` calls heard (or :meth:`log` calls with no step between), and
    "step k" everywhere — the history, the slider, the pictures, ``.figure()`` — means the model as it
    was after optimizer step k: its weights, weight norms and dead units then, with the gradient norm
    of the gradient step k applied and the update ratio of the change step k made. Pictures are stored
    for sampled steps; ``step = k`` shows the last one at or before k (the page says which), and the
    step training is at (or -1) shows the weights now, which are those after it.

    Known limitation: with two optimizers stepping parts of one model (say, one per sub-network), each
    training iteration counts two steps (the counter counts optimizer steps), so logged metrics land on
    every other step and each part's statistics on the steps of its own optimizer.

    Example::

        import torch, nnwidgets as nw
        torch.manual_seed(0)
        X, y = torch.randn(512, 8), torch.randn(512, 1)
        net = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
        monitor = nw.TrainingMonitor(net, X.numpy())     # X optional: it adds dead units
        monitor                                          # shown in the notebook
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
        for epoch in range(200):
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(net(X), y)
            loss.backward()
            optimizer.step()
            monitor.log(loss=loss.item())
        monitor.history["loss"][-1]      # (200, ...)
        monitor.warnings                 # [{'kind': ..., 'layer': ..., 'step': ..., 'text': ...}, ...]
        monitor.step = 20                # the picture and statistics after optimizer step 20
    """

    _esm = static_file("training_monitor.js")
    _css = static_file("training_monitor.css")

    selected_layer = traitlets.Unicode("").tag(sync=True)
    step = traitlets.Int(-1, help="the step shown in the heatmap and layer statistics (the model after optimizer step "
                         "`step`); -1: the latest").tag(sync=True)
    layers = traitlets.List(traitlets.Unicode(), read_only=True).tag(sync=True)
    curves = traitlets.Dict(read_only=True).tag(sync=True)
    layer_stats = traitlets.Dict(read_only=True).tag(sync=True)
    snapshot_steps = traitlets.Dict(read_only=True).tag(sync=True)
    heatmap = traitlets.Dict(read_only=True).tag(sync=True)
    step_stats = traitlets.Dict(read_only=True).tag(sync=True)
    colormap = traitlets.Dict(read_only=True).tag(sync=True)
    message = traitlets.Unicode("", read_only=True).tag(sync=True)
    alerts = traitlets.List(traitlets.Dict(), read_only=True, help="the warnings as last sent to the page").tag(sync=True)
    total_steps = traitlets.Int(0, read_only=True, help="steps heard (optimizer steps, or log calls without one)").tag(sync=True)
    summary = traitlets.Dict(read_only=True).tag(sync=True)

    mirrors: ClassVar[tuple[str, ...]] = ("selected_layer",)

    def __init__(self, source: Any, X: Any = None, *, duty: float = DUTY, **kwargs: Any) -> None:
        self._recorder: TrainingRecorder | None = None
        self._redraw_lock = threading.RLock()
        super().__init__(source, X, **kwargs)
        inspector = self.inspector
        data = inspector.data
        self.probe_rows = (np.unique(np.linspace(0, data.n_rows - 1, probe_rows(np.asarray(data.X))).astype(int))
                           if data is not None else np.zeros(0, dtype=int))
        self._recorder = TrainingRecorder(
            inspector.model, predictor=inspector.predictor,
            probe=data.X[self.probe_rows] if data is not None else None,
            version=lambda: inspector.version, duty=duty,
        )
        self.set_trait("colormap", encode_array(diverging_lut()))
        _monitors.add(self)
        self._update_safely({"model", "selected_layer"})

    # -- the user's side --------------------------------------------------------------------------
    def log(self, **metrics: float) -> None:
        """Record metrics (``loss=..., accuracy=...``) at the current step: the number of optimizer
        steps heard, or one more than the last call's step when no optimizer step came between. Once the
        monitor is closed, it records nothing (and never raises into the training loop)."""
        if not metrics:
            raise TypeError("log() needs at least one metric, e.g. monitor.log(loss=loss.item())")
        inspector, recorder = self.inspector, self._recorder
        if inspector is None or recorder is None or recorder.closed:
            return  # closed (a cell re-run while a thread's loop goes on): the user's training must not fail here
        since_step = recorder.record_metrics(metrics)[1]
        if since_step >= QUIET_S and (since_step == math.inf or not ticker().is_moving(inspector)):
            # No step since the last call, or the steps' session already ended (an evaluation after an epoch, then
            # its result): no live refresh will come for this value, so say the model moved and redraw from here.
            inspector.moved()
            self._refresh_for_log()

    @property
    def history(self) -> dict[str, list[tuple[int, float]]]:
        """Every recorded series, name → ``[(step, value), ...]``: the logged metrics under their own
        names, and per layer ``"<layer>/weight_norm"``, ``"/grad_norm"``, ``"/update_ratio"``,
        ``"/dead_share"``."""
        return self._live_recorder().history()

    @property
    def warnings(self) -> list[dict]:
        """What looks wrong so far, one dict per kind and layer (the first step it was seen):
        ``{"kind", "layer", "step", "text"}``. Kinds: ``exploding_gradients`` (non-finite, or ≫ early
        values), ``vanishing_gradients``, ``update_ratio_high`` / ``update_ratio_low`` (sustained
        > 1e-2 or < 1e-5), ``dead_units`` (the dead share rose by 25 points or more)."""
        return self._live_recorder().warnings

    @property
    def memory_bytes(self) -> int:
        """Bytes the records hold (series, weight pictures, probe rows): at most 50 MB."""
        return self._live_recorder().memory_bytes

    @property
    def overhead(self) -> float:
        """The share of wall time the statistics took since the monitor started."""
        return self._live_recorder().overhead

    @property
    def duty(self) -> float:
        """The share of wall time the statistics may take (0.3 % by default). Set it to sample more
        (a small model in a short loop) or less, from now on."""
        return self._live_recorder().duty

    @duty.setter
    def duty(self, duty: float) -> None:
        self._live_recorder().duty = duty

    @property
    def recorder(self) -> TrainingRecorder:
        return self._live_recorder()

    def _live_recorder(self) -> TrainingRecorder:
        if self._recorder is None:
            raise ValueError("this TrainingMonitor is closed")
        return self._recorder

    # -- drawing ----------------------------------------------------------------------------------
    @traitlets.validate("step")
    def _check_step(self, proposal: dict) -> int:
        value = proposal["value"]
        if value < -1:
            raise traitlets.TraitError(f"step must be -1 (the latest) or a step number ≥ 0, got {value}")
        return value

    @traitlets.observe("step")
    def _on_step(self, _: dict) -> None:
        if self._recorder is not None and self._ready:
            self._update_safely({"step"})

    def update(self, changes: set[str]) -> None:
        if self._recorder is None:
            return
        with self._redraw_lock, self.hold_sync():
            if _exiting:
                return
            if "model" in changes:
                self._send_records()
            if changes & {"model", "selected_layer", "step"}:
                self._send_picture()

    def _send_records(self) -> None:
        rec = self._recorder
        history = rec.history()
        layers = rec.layer_names
        metrics = rec.metrics.names()
        snaps = rec.snapshot_steps()
        self.set_trait("layers", layers)
        self.set_trait("curves", curves_payload(history, metrics))
        self.set_trait("layer_stats", layers_payload(history, layers))
        self.set_trait("snapshot_steps", encode_array(np.array(snaps, dtype=np.int64)))
        self.set_trait("alerts", rec.warnings)
        self.set_trait("total_steps", rec.step)
        self.set_trait("summary", {
            "steps": rec.step, "samples": rec.samples, "snapshots": len(snaps), "memory_bytes": rec.memory_bytes,
            "overhead": rec.overhead, "dead_units": rec.dead_problem or (
                "" if rec.probe is not None else "dead units need data: build the monitor as TrainingMonitor(model, X)"),
        })

    def _send_picture(self) -> None:
        """The selected layer's picture and statistics at ``step``: the model after optimizer step
        ``step`` (the last stored picture at or before it), or now for -1 and for the step training
        is at (its weights now are those after that step)."""
        rec = self._recorder
        layer = self.selected_layer
        if layer not in rec.layer_names:
            self.set_trait("heatmap", {})
            self.set_trait("step_stats", {})
            kind = ""
            try:
                kind = f" ({type(self.inspector.model.get_submodule(layer)).__name__})" if layer else ""
            except AttributeError:
                pass
            self.set_trait("message", f"{layer or 'the model'}{kind} has no weights of its own: pick a layer with weights")
            return
        found = rec.picture_at(self.step, layer)
        if found is None:
            self.set_trait("heatmap", {})
            self.set_trait("message", "no picture of this layer recorded yet: it appears after the first optimizer step"
                           if rec.live_picture(layer) is not None else f"{layer} has no weights to picture")
            shown = rec.step if self.step < 0 else self.step
        else:
            shown, heat, _live = found
            self.set_trait("message", "")
            self.set_trait("heatmap", self._picture_payload(heat, layer, shown))
        self.set_trait("step_stats", self._stats_at(layer, shown))

    def _picture_payload(self, heat: Heatmap, layer: str, step: int) -> dict:
        tracked = next(t for t in self._recorder.layers if t.name == layer)
        dtype = str(tracked.module.get_parameter(tracked.picture).dtype).removeprefix("torch.")
        payload = heatmap_payload(heat, layer, tracked.picture, dtype)
        payload["step"] = int(step)
        payload["live"] = self.step < 0
        payload["checksum"] = float(np.nan_to_num(np.asarray(heat.values, dtype=np.float64)).sum())
        return payload

    def _stats_at(self, layer: str, step: int) -> dict:
        """The layer's statistics recorded last at or before ``step``."""
        out: dict[str, Any] = {"layer": layer, "step": int(step)}
        for stat in STATS:
            try:
                series = self._recorder.layer_history.series(series_name(layer, stat))
            except KeyError:
                out[stat] = None
                continue
            steps, values = series.steps, series.values
            i = int(np.searchsorted(steps, step, side="right")) - 1
            out[stat] = _number(values[i]) if i >= 0 else None
            out[f"{stat}_step"] = int(steps[i]) if i >= 0 else None
        return out

    def _refresh_for_log(self) -> None:
        """Redraw after ``log()`` calls that moved no weights: now if the live rate allows; else the
        values wait for the next live refresh or for the pause (``settle_views``), which draws them."""
        if self.working and self._live_due():
            self._update_safely({"model", "live"})
        else:
            self._stale.add("model")

    def describe_failure(self, name: str) -> str:
        return "the training monitor failed"

    def figure(self) -> Figure:
        """The curves and the per-layer small multiples (weight norm, gradient norm, update ratio with
        its 1e-3 reference, dead share) as a matplotlib Figure; step k on their axes is the model after
        optimizer step k. When ``step`` is scrubbed (≥ 0), a dotted line marks the step shown."""
        rec = self._live_recorder()
        fig = draw_training(rec.history(), rec.metrics.names(), rec.layer_names, self.selected_layer, rec.warnings)
        shown = self.heatmap.get("step") if self.step >= 0 else None
        if shown is not None:  # scrubbed: the step shown, as the page's cursor marks it
            for ax in fig.axes:
                if ax.lines:
                    ax.axvline(shown, color="#888888", ls=":", lw=0.9)
            fig.suptitle(f"step {shown}: the model after optimizer step {shown}" if shown else "step 0: before training",
                         fontsize=9)
        return fig

    def close(self) -> None:
        if self._recorder is not None:
            self._recorder.close()
        super().close()
