"""What a model does while it trains, recorded from the optimizer's steps alone: per-layer weight and
gradient norms, the update/weight ratio, the share of dead units on a fixed probe batch, pooled
pictures of each layer's weights to scrub back through, and the user's own logged metrics.

Everything is read, never written: gradients in the pre-step hook, a fixed random subset of at most
``UPDATE_SAMPLE`` elements of each parameter before and after the step (the whole parameter when it is
smaller), and the probe batch runs through the inspector's read-only shadow. The statistics are taken
on the training thread under a duty budget: the time they take is measured and steps are skipped so
that they use at most ``duty`` of the wall time. Memory stays under ``MEMORY_BUDGET`` however long
training runs (series and snapshots thin evenly, like :class:`~nnwidgets.core.history.Series`)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from .activations import RECTIFIERS, UnitFlags, flatten_rows, leaf_layers
from .heatmap import Heatmap, heatmap
from .history import DEFAULT_POINTS, History
from .layer_table import main_weight_name
from .model_version import is_lazy, structure_key

STATS = ("weight_norm", "grad_norm", "update_ratio", "dead_share")
UPDATE_SAMPLE = 4096  # elements per parameter compared before and after a step
PROBE_ROWS = 256
DUTY = 0.01
MAX_LAYERS = 1024
MAX_METRICS = 64
MEMORY_BUDGET = 50_000_000
HISTORY_BUDGET = 20_000_000  # the layers' series
SNAPSHOT_BUDGET = 22_000_000  # the pooled weight pictures
SNAPSHOT_CELLS = 48 * 48
MAX_SNAPSHOTS = 256
MIN_SNAPSHOTS = 16
HEALTHY_UPDATE_RATIO = 1e-3
HIGH_UPDATE_RATIO = 1e-2
LOW_UPDATE_RATIO = 1e-5
SUSTAINED = 5  # samples in a row a ratio must stay out of range
EXPLODING_GROWTH = 1e3
VANISHING_SHARE = 1e-5
DEAD_RISE = 0.25

WARNING_KINDS = ("exploding_gradients", "vanishing_gradients", "update_ratio_high", "update_ratio_low", "dead_units")


def series_name(layer: str, stat: str) -> str:
    """The history name of a layer statistic.

    >>> series_name("encoder.0", "grad_norm")
    'encoder.0/grad_norm'
    """
    return f"{layer}/{stat}"


@dataclass
class TrackedLayer:
    """A module that owns parameters (``named_modules()`` name), the parameters it owns (tied ones
    belong to the first module), the one pictured when scrubbing, and the rectifier whose output
    units count as its units for the dead share (``""``: none)."""

    name: str
    module: nn.Module
    params: list[nn.Parameter]
    picture: str | None
    rectifier: str = ""


def tracked_layers(model: nn.Module, limit: int = MAX_LAYERS) -> list[TrackedLayer]:
    """The modules that own parameters, in ``named_modules()`` order, with the rectifier that follows
    each (the first ReLU-family leaf after a weighted leaf and before the next one; a leaf with a
    matrix, such as a Linear or a Conv, is preferred over a norm layer in between).

    >>> net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    >>> [(t.name, t.rectifier) for t in tracked_layers(net)]
    [('0', '2'), ('1', ''), ('3', '')]
    """
    seen: set[int] = set()
    layers: dict[str, TrackedLayer] = {}
    for name, module in model.named_modules():
        owned = [p for p in module.parameters(recurse=False) if id(p) not in seen and not is_lazy(p)]
        seen.update(id(p) for p in module.parameters(recurse=False))
        if owned and len(layers) < limit:
            layers[name] = TrackedLayer(name, module, owned, main_weight_name(module))
    matrix = weighted = None
    for name, module in leaf_layers(model):
        if isinstance(module, RECTIFIERS):
            target = layers.get(matrix or weighted or "")
            if target is not None and not target.rectifier:
                target.rectifier = name
            matrix = weighted = None
        if name in layers:
            weighted = name
            if any(p.dim() >= 2 for p in layers[name].params):
                matrix = name
    return list(layers.values())


def dead_share(flags: UnitFlags) -> float:
    """The share of a rectifier's units that were never positive on any probe row."""
    dead, _ = flags.result()
    return float(dead.mean()) if dead.size else 0.0


def _floats(tensors: list[torch.Tensor]) -> list[float]:
    """0-d tensors (any devices) as Python floats, with one transfer per device."""
    if not tensors:
        return []
    by_device: dict[torch.device, list[int]] = {}
    for i, t in enumerate(tensors):
        by_device.setdefault(t.device, []).append(i)
    out = [0.0] * len(tensors)
    for indices in by_device.values():
        values = torch.stack([tensors[i].float() for i in indices]).double().cpu().tolist()
        for i, v in zip(indices, values):
            out[i] = v
    return out


def _norm(t: torch.Tensor) -> torch.Tensor:
    if t.is_sparse:
        t = t.coalesce().values()
    t = t.detach()
    if t.is_complex():
        t = t.abs()
    if t.dtype in (torch.float16, torch.bfloat16):
        return torch.linalg.vector_norm(t, dtype=torch.float32)
    if not t.is_floating_point():
        return torch.linalg.vector_norm(t.float())
    return torch.linalg.vector_norm(t)


class Thinned:
    """At most ``capacity`` items offered in order; thinned evenly like a :class:`Series` (every other
    kept item dropped when full, and from then on only every second offer kept). ``wants()`` says
    whether the next offer would be kept, so that costly items are made only when they are."""

    def __init__(self, capacity: int) -> None:
        if capacity < 2:
            raise ValueError(f"capacity must be at least 2, got {capacity}")
        self.capacity = capacity
        self.stride = 1
        self._offered = 0
        self.items: list[tuple[int, Any]] = []

    def wants(self) -> bool:
        return self._offered % self.stride == 0 and not (
            len(self.items) == self.capacity and self._offered % (self.stride * 2)
        )

    def add(self, step: int, item: Any | None) -> None:
        """Offer ``(step, item)``; ``item`` may be ``None`` when :meth:`wants` said no."""
        keep = self._offered % self.stride == 0
        self._offered += 1
        if not keep:
            return
        if len(self.items) == self.capacity:
            self.items = self.items[::2]
            self.stride *= 2
            if (self._offered - 1) % self.stride:
                return
        self.items.append((step, item))

    def __len__(self) -> int:
        return len(self.items)


@dataclass
class _Pending:
    """What a sampled step read before the optimizer ran."""

    started: float
    cost: float
    layers: list[tuple[TrackedLayer, list[tuple[nn.Parameter, torch.Tensor | None, torch.Tensor, int]]]]
    norms: dict[str, tuple[float, float | None]]
    dead: dict[str, float]
    weight_sq: dict[str, float]
    snapshot: dict[str, Heatmap] | None


@dataclass
class _LayerWatch:
    early_grads: list[float] = field(default_factory=list)
    ratios: deque = field(default_factory=lambda: deque(maxlen=SUSTAINED))
    vanishing: int = 0
    first_dead: float | None = None


class TrainingRecorder:
    """Records a model's training from its optimizer steps (hooked with :func:`~.steps.on_steps`,
    nothing set on the model or the optimizer) and from :meth:`log`.

    ``predict`` is the inspector's :class:`~.predictor.Predictor` and ``probe`` at most
    ``PROBE_ROWS`` rows of X (raw feature values) for the dead share; ``version`` gives the model
    version the shadow is built for. ``duty``: the share of wall time the statistics may take.

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    >>> rec = TrainingRecorder(net)
    >>> opt = torch.optim.SGD(net.parameters(), lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad(); loss = net(torch.ones(2, 3)).pow(2).mean(); loss.backward(); opt.step()
    ...     _ = rec.log(loss=loss.item())
    >>> rec.step, [s for s, _ in rec.history()["loss"]]
    (3, [1, 2, 3])
    >>> sorted(rec.history())[:3]
    ['0/grad_norm', '0/update_ratio', '0/weight_norm']
    >>> rec.close()
    """

    def __init__(self, model: nn.Module, *, predictor: Any = None, probe: np.ndarray | None = None,
                 version: Callable[[], int] = lambda: 0, duty: float = DUTY, seed: int = 0) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"expected a torch.nn.Module, got {type(model).__name__}")
        if not (isinstance(duty, (int, float)) and 0 < duty <= 1):
            raise ValueError(f"duty must be a share of wall time in (0, 1], got {duty!r}")
        self.model = model
        self.predictor = predictor
        self.probe = None if probe is None else np.asarray(probe)[:PROBE_ROWS]
        self.version = version
        self.duty = float(duty)
        self.step = 0
        self.samples = 0
        self.stat_seconds = 0.0
        self.started = time.monotonic()
        self.dead_problem = ""
        self._lock = threading.RLock()
        self._rng = np.random.default_rng(seed)
        self._indices: dict[int, tuple[tuple, torch.Tensor]] = {}
        self._optimizer_params: dict[int, tuple[int, frozenset[int]]] = {}
        self._stepped_since_log = False
        self._next_due = 0.0
        self._pending: _Pending | None = None
        self._watch: dict[str, _LayerWatch] = {}
        self._warnings: list[dict] = []
        self._warned: set[tuple[str, str]] = set()
        self.metrics = History(DEFAULT_POINTS)
        self._arrange()
        from .steps import on_steps  # noqa: PLC0415 (steps imports torch.optim hooks)

        self._stop = on_steps(model, self)
        self.closed = False

    # -- layout -----------------------------------------------------------------------------------
    def _arrange(self) -> None:
        """(Re)read the model's layers. The stores are sized for the number of layers (memory stays
        under budget): when it grows, they are rebuilt smaller from what they hold."""
        self._structure = structure_key(self.model)
        self.layers = tracked_layers(self.model)
        n = max(len(self.layers), 1)
        if n <= getattr(self, "_sized_for", 0):
            return
        self._sized_for = n
        points = int(min(DEFAULT_POINTS, max(64, HISTORY_BUDGET // (16 * len(STATS) * n))))
        old_history = getattr(self, "layer_history", None)
        self.layer_history = History(points)
        if old_history is not None:
            for name, pairs in old_history.as_dict().items():
                for step, value in pairs:
                    self.layer_history.add(step, **{name: value})
        self.snapshot_cells = int(min(SNAPSHOT_CELLS, max(64, SNAPSHOT_BUDGET // (4 * n * MIN_SNAPSHOTS))))
        per_snapshot = 4 * n * self.snapshot_cells + 256 * n
        old_snapshots = getattr(self, "snapshots", None)
        self.snapshots = Thinned(int(min(MAX_SNAPSHOTS, max(2, SNAPSHOT_BUDGET // per_snapshot))))
        if old_snapshots is not None:  # older pictures were pooled finer: keep the thinned set only
            for step, item in old_snapshots.items[:: max(1, -(-len(old_snapshots) // self.snapshots.capacity))]:
                self.snapshots.add(step, item)

    @property
    def layer_names(self) -> list[str]:
        return [t.name for t in self.layers]

    # -- the user's metrics -----------------------------------------------------------------------
    def log(self, **metrics: float) -> int:
        """Record named metrics at the current step (optimizer steps heard); without a step heard since
        the last call, this call advances the step itself. Returns the step recorded at."""
        values = {}
        for name, value in metrics.items():
            values[name] = check_metric(name, value)
        with self._lock:
            if not self._stepped_since_log:
                self.step += 1
            self._stepped_since_log = False
            known = set(self.metrics.names())
            new = [n for n in values if n not in known]
            if len(known) + len(new) > MAX_METRICS:
                raise ValueError(f"at most {MAX_METRICS} metric names can be logged (memory stays bounded); "
                                 f"new ones here: {new}")
            if any("/" in n and n.split("/", 1)[0] in self.layer_names and n.rsplit("/", 1)[-1] in STATS for n in new):
                raise ValueError(f"metric names like {new[0]!r} are the monitor's own layer statistics: choose another name")
            self.metrics.add(self.step, **values)
            return self.step

    # -- step hooks (the training thread) ---------------------------------------------------------
    def before_step(self, optimizer: torch.optim.Optimizer) -> None:
        with self._lock:
            if self.closed:
                return
            self.step += 1
            self._stepped_since_log = True
            self._pending = None
            now = time.perf_counter()
            if now < self._next_due:
                return
            with torch.no_grad():
                self._pending = self._read_before(optimizer, now)

    def after_step(self, optimizer: torch.optim.Optimizer) -> None:
        with self._lock:
            pending, self._pending = self._pending, None
            if pending is None or self.closed:
                return
            started = time.perf_counter()
            with torch.no_grad():
                self._record(pending)
            cost = pending.cost + time.perf_counter() - started
            self.stat_seconds += cost
            self.samples += 1
            end = time.perf_counter()
            # The first sample pays one-time set-up (the shadow, index sets): it does not delay the next.
            self._next_due = end if self.samples == 1 else end + cost * (1 / self.duty - 1)

    def _params_of(self, optimizer: torch.optim.Optimizer) -> frozenset[int]:
        count = sum(len(g["params"]) for g in optimizer.param_groups)
        cached = self._optimizer_params.get(id(optimizer))
        if cached is None or cached[0] != count:
            cached = (count, frozenset(id(p) for g in optimizer.param_groups for p in g["params"]))
            self._optimizer_params[id(optimizer)] = cached
        return cached[1]

    def _sample_of(self, p: torch.Tensor) -> torch.Tensor | None:
        """The fixed random element indices compared for ``p`` (None: all of it)."""
        n = p.numel()
        if n <= UPDATE_SAMPLE:
            return None
        key = (tuple(p.shape), str(p.device))
        cached = self._indices.get(id(p))
        if cached is None or cached[0] != key:
            chosen = np.sort(self._rng.choice(n, UPDATE_SAMPLE, replace=False))
            cached = (key, torch.from_numpy(chosen).to(p.device))
            self._indices[id(p)] = cached
        return cached[1]

    def _read_before(self, optimizer: torch.optim.Optimizer, started: float) -> _Pending:
        if structure_key(self.model) != self._structure:
            self._arrange()
        updated = self._params_of(optimizer)
        chosen, norms, owners = [], [], []
        for layer in self.layers:
            params = [p for p in layer.params if id(p) in updated]
            if not params:
                continue
            reads = []
            for p in params:
                moves = p.grad is not None
                norms.append(_norm(p))
                owners.append((layer.name, "moved_w" if moves else "w"))
                if moves:
                    norms.append(_norm(p.grad))
                    owners.append((layer.name, "g"))
                    idx = self._sample_of(p)
                    flat = p.detach().reshape(-1).clone() if idx is None else torch.take(p.detach(), idx)
                    reads.append((p, idx, flat, p.numel()))
            chosen.append((layer, reads))
        squares: dict[tuple[str, str], float] = {}
        for (name, kind), value in zip(owners, _floats(norms)):
            squares[name, kind] = squares.get((name, kind), 0.0) + value * value
        summary, moved_sq = {}, {}
        for layer, _ in chosen:
            name = layer.name
            weight = math.sqrt(squares.get((name, "w"), 0.0) + squares.get((name, "moved_w"), 0.0))
            grad = math.sqrt(squares[name, "g"]) if (name, "g") in squares else None
            summary[name] = (weight, grad)
            moved_sq[name] = squares.get((name, "moved_w"), 0.0)  # the update ratio's base: parameters the step moves
        snapshot = self._pictures() if self.snapshots.wants() else None
        dead = self._dead_shares()
        return _Pending(started, time.perf_counter() - started, chosen, summary, dead, moved_sq, snapshot)

    def _pictures(self) -> dict[str, Heatmap]:
        pictures = {}
        for layer in self.layers:
            if layer.picture is None:
                continue
            try:
                heat = heatmap(layer.module, layer.picture, None, self.snapshot_cells)
            except (ValueError, RuntimeError):
                continue
            pictures[layer.name] = replace(heat, values=np.asarray(heat.values, dtype=np.float32))
        return pictures

    def _dead_shares(self) -> dict[str, float]:
        targets = {t.rectifier: t.name for t in self.layers if t.rectifier}
        if self.predictor is None or self.probe is None or not targets or self.dead_problem:
            return {}
        modules = dict(self.model.named_modules())
        flags = {name: UnitFlags(modules[name]) for name in targets}

        def capture(_start: int, seen: dict) -> None:
            for name, (_inputs, output) in seen.items():
                if name in flags:
                    flags[name].add(flatten_rows(output))

        try:
            self.predictor.raw(self.probe, self.version(), capture=capture, names=tuple(targets))
        except Exception as error:  # a model the shadow cannot run: no dead share, said once
            self.dead_problem = f"dead units are not measured: {type(error).__name__}: {error}"
            return {}
        return {targets[name]: dead_share(f) for name, f in flags.items() if f.rows}

    def _record(self, pending: _Pending) -> None:
        step = self.step
        d_values, owners = [], []
        for layer, reads in pending.layers:
            for p, idx, old, n in reads:
                new = p.detach().reshape(-1) if idx is None else torch.take(p.detach(), idx)
                diff = new.float() - old.float() if new.dtype != torch.float64 else new - old
                scale = n / old.numel()
                d_values.append(diff.pow(2).sum() * scale)
                owners.append(layer.name)
        moved: dict[str, float] = {}
        for name, value in zip(owners, _floats(d_values)):
            moved[name] = moved.get(name, 0.0) + value
        records: dict[str, float] = {}
        largest_grad = max((g for _, g in pending.norms.values() if g is not None and math.isfinite(g)), default=0.0)
        for layer, reads in pending.layers:
            name = layer.name
            weight, grad = pending.norms[name]
            records[series_name(name, "weight_norm")] = weight
            ratio = None
            if grad is not None:
                records[series_name(name, "grad_norm")] = grad
                base = math.sqrt(pending.weight_sq.get(name, 0.0))
                if name in moved and base > 0:
                    ratio = math.sqrt(max(moved[name], 0.0)) / base
                    records[series_name(name, "update_ratio")] = ratio
            share = pending.dead.get(name)
            if share is not None:
                records[series_name(name, "dead_share")] = share
            self._check(name, step, grad, largest_grad, ratio, share)
        if records:
            self.layer_history.add(step, **records)
        if pending.snapshot is not None:
            self.snapshots.add(step, pending.snapshot)
        elif self.snapshots.capacity:
            self.snapshots.add(step, None)

    # -- warnings ---------------------------------------------------------------------------------
    def _warn(self, kind: str, layer: str, step: int, text: str) -> None:
        if (kind, layer) not in self._warned:
            self._warned.add((kind, layer))
            self._warnings.append({"kind": kind, "layer": layer, "step": step, "text": text})

    def _check(self, name: str, step: int, grad: float | None, largest: float, ratio: float | None,
               share: float | None) -> None:
        watch = self._watch.setdefault(name, _LayerWatch())
        if grad is not None:
            if not math.isfinite(grad):
                what = "NaN" if math.isnan(grad) else "infinite"
                self._warn("exploding_gradients", name, step,
                           f"gradients of {name} are {what} at step {step}: training diverged "
                           "(lower the learning rate, clip gradients, check the loss and the inputs)")
            elif len(watch.early_grads) < 3:
                watch.early_grads.append(grad)
            else:
                early = float(np.median(watch.early_grads))
                if early > 0 and grad > EXPLODING_GROWTH * early:
                    self._warn("exploding_gradients", name, step,
                               f"the gradient norm of {name} grew to {grad:.3g}, {grad / early:,.0f}× its early value "
                               f"{early:.3g}: gradients are exploding (lower the learning rate or clip gradients)")
            if math.isfinite(grad) and largest > 0 and grad < VANISHING_SHARE * largest:
                watch.vanishing += 1
            else:
                watch.vanishing = 0
            if watch.vanishing >= SUSTAINED:
                self._warn("vanishing_gradients", name, step,
                           f"the gradient norm of {name} ({grad:.2g}) stays under {VANISHING_SHARE:g} of the largest "
                           f"layer's ({largest:.2g}): almost no learning signal reaches it (vanishing gradients)")
        if ratio is not None and not math.isnan(ratio):  # an infinite update counts as a (far too) large one
            watch.ratios.append(ratio)
            if len(watch.ratios) == SUSTAINED:
                typical = float(np.median(watch.ratios))
                if typical > HIGH_UPDATE_RATIO:
                    self._warn("update_ratio_high", name, step,
                               f"each step changes {name}'s weights by {typical:.2g} of their size (healthy: about "
                               f"{HEALTHY_UPDATE_RATIO:g}): the learning rate is likely too high")
                elif typical < LOW_UPDATE_RATIO:
                    self._warn("update_ratio_low", name, step,
                               f"each step changes {name}'s weights by only {typical:.2g} of their size (healthy: about "
                               f"{HEALTHY_UPDATE_RATIO:g}): the learning rate is likely too low, or the layer is stuck")
        if share is not None:
            if watch.first_dead is None:
                watch.first_dead = share
            elif share >= watch.first_dead + DEAD_RISE:
                self._warn("dead_units", name, step,
                           f"{share:.0%} of {name}'s units are dead on the probe rows (at first {watch.first_dead:.0%}): "
                           "they output 0 for every row and no longer learn")

    @property
    def warnings(self) -> list[dict]:
        with self._lock:
            return [dict(w) for w in self._warnings]

    # -- reading back -----------------------------------------------------------------------------
    def history(self) -> dict[str, list[tuple[int, float]]]:
        """Every recorded series: the user's metrics, then the layers' statistics."""
        return {**self.metrics.as_dict(), **self.layer_history.as_dict()}

    def snapshot_steps(self) -> list[int]:
        with self._lock:
            return [s for s, item in self.snapshots.items if item is not None]

    def snapshot_at(self, step: int, layer: str) -> tuple[int, Heatmap] | None:
        """The picture of ``layer`` stored at the last snapshot at or before ``step`` (the first one
        if ``step`` comes before it); None without any."""
        with self._lock:
            taken = [(s, item[layer]) for s, item in self.snapshots.items if item is not None and layer in item]
        if not taken:
            return None
        steps = [s for s, _ in taken]
        i = max(0, int(np.searchsorted(steps, step, side="right")) - 1)
        return taken[i]

    def live_picture(self, layer: str) -> Heatmap | None:
        """``layer``'s weights as they are now, pooled like the snapshots."""
        tracked = next((t for t in self.layers if t.name == layer), None)
        if tracked is None or tracked.picture is None:
            return None
        heat = heatmap(tracked.module, tracked.picture, None, self.snapshot_cells)
        return replace(heat, values=np.asarray(heat.values, dtype=np.float32))

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the records: series, snapshots, the probe rows and index sets."""
        with self._lock:
            snaps = sum(h.values.nbytes + 256 for _, item in self.snapshots.items if item for h in item.values())
            indices = sum(t.numel() * t.element_size() for _, t in self._indices.values())
        probe = 0 if self.probe is None else self.probe.nbytes
        return self.metrics.nbytes + self.layer_history.nbytes + snaps + indices + probe

    @property
    def overhead(self) -> float:
        """The share of wall time since the start that the statistics took."""
        return self.stat_seconds / max(time.monotonic() - self.started, 1e-9)

    def close(self) -> None:
        """Stop listening; the records stay readable."""
        self.closed = True
        self._stop()


def check_metric(name: object, value: object) -> float:
    """A logged metric as a float, or a clear error.

    >>> check_metric("loss", 0.5)
    0.5
    >>> check_metric("loss", "high")
    Traceback (most recent call last):
    ...
    TypeError: metric 'loss' must be a number (or a one-element tensor), got str
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"metric names must be non-empty strings, got {name!r}")
    if isinstance(value, bool):
        raise TypeError(f"metric {name!r} must be a number (or a one-element tensor), got bool")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"metric {name!r} must be one number; got a tensor of shape {tuple(value.shape)}")
        return float(value.detach().reshape(()).item())
    if isinstance(value, np.ndarray) and value.size == 1:
        return float(value.reshape(()))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    raise TypeError(f"metric {name!r} must be a number (or a one-element tensor), got {type(value).__name__}")
