"""What a model does while it trains, recorded from the optimizer's steps alone: per-layer weight and
gradient norms, the update/weight ratio, the share of dead units on a fixed probe batch, pooled
pictures of each layer's weights to scrub back through, and the user's own logged metrics.

Everything is read, never written: gradients in the pre-step hook, a fixed evenly strided subset of at
most ``UPDATE_SAMPLE`` elements of each parameter (a view, at a fixed random offset: no index sets are
stored) before and after the step, the whole parameter when it is smaller, and the probe batch runs
through the inspector's read-only shadow.

"Step k" means the model as it is after optimizer step k: a sample at step k records the weight norms,
pictures and dead shares read after the step, with the gradient norms of the gradient step k applied
and the update ratio ‖Δw‖/‖w‖ of its change (w: the weights before it).

The statistics are taken on the training thread under a duty budget, in two tiers that each have
their own share of it and space themselves by what their own samples cost: the cheap tier (weight
and gradient norms, update ratios: a few batched tensor calls and one host transfer per device) gets
``CHEAP_SHARE`` of ``duty``, the heavy tier (pooled pictures of the weights, the dead-unit probe
pass) the rest. A sample's cost is the training thread's CPU time in it (time the thread waits for
the GIL or the machine is not the statistics'), and the slowdown of the step it was taken in beyond
that (the caches it leaves cold: several times its own time on a small model's millisecond steps).
Memory stays under ``MEMORY_BUDGET`` however long
training runs and however many layers the model has: each store has its own budget (series, snapshots,
the before-step copies of the compared elements, the probe rows, the logged metrics) and the per-layer
sizes shrink with the number of layers; series and snapshots thin evenly, like
:class:`~nnwidgets.core.history.Series`."""

from __future__ import annotations

import math
import statistics
import threading
import time
import weakref
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
from .steps import on_steps, param_count, want_before

STATS = ("weight_norm", "grad_norm", "update_ratio", "dead_share")
UPDATE_SAMPLE = 4096  # elements per parameter compared before and after a step (at most)
MIN_SAMPLE = 16  # ... at least, when many parameters share the copy budget
COPY_BUDGET = 4_000_000  # the compared elements: their kept before-step copy and the after-step read
PROBE_ROWS = 256
PROBE_BUDGET = 2_000_000  # the probe rows kept (fewer rows when they are wide)
DUTY = 0.003  # beside the live refreshes (0.75 %) and the step hooks: notebook 03 measured at 1.2 to 3.0 % with 0.5 %
CHEAP_SHARE = 0.7  # of the duty: the cheap tier (norms, update ratios); the heavy tier (pictures, probe) has the rest
AFTERMATH_CAP = 10  # a sampled step's slowdown beyond its own cost is charged up to this many times that cost
QUIET_STEPS = 32  # the unsampled step intervals the slowdown is judged against
MAX_LAYERS = 1024
MAX_METRICS = 64
LOG_BATCH = 256  # logged values wait in a plain list until this many or a read: each log() call stays cheap
MEMORY_BUDGET = 50_000_000  # all of the below: metrics 4.2 MB + probe 2 + copies 4 + series 18 + pictures 20
METRICS_BYTES = MAX_METRICS * DEFAULT_POINTS * 16  # the logged metrics' series (int64 step, float64 value)
HISTORY_BUDGET = 18_000_000  # the layers' series
SNAPSHOT_BUDGET = 20_000_000  # the pooled weight pictures
SNAPSHOT_CELLS = 48 * 48
MAX_SNAPSHOTS = 256
MIN_SNAPSHOTS = 16
HEALTHY_UPDATE_RATIO = 1e-3
HIGH_UPDATE_RATIO = 1e-2
LOW_UPDATE_RATIO = 1e-5
SUSTAINED = 5  # samples in a row a ratio must stay out of range (the median of the last ones)
SUSTAINED_EARLY = 3  # ... or of all of them, when there are at least this many yet
WARMUP = SUSTAINED_EARLY  # the first steps are all sampled by the cheap tier (early training changes fastest)
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


def probe_rows(X: np.ndarray) -> int:
    """How many rows of ``X`` the probe keeps: ``PROBE_ROWS``, fewer when they would take more than
    ``PROBE_BUDGET`` bytes (at least one).

    >>> probe_rows(np.zeros((1000, 10))), probe_rows(np.zeros((1000, 3, 224, 224), dtype=np.float32))
    (256, 3)
    """
    row = max(1, X[:1].nbytes)
    return int(min(PROBE_ROWS, len(X), max(1, PROBE_BUDGET // row)))


def dead_share(flags: UnitFlags) -> float:
    """The share of a rectifier's units that were never positive on any probe row."""
    dead, _ = flags.result()
    return float(dead.mean()) if dead.size else 0.0


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


_FOREACH = (torch.float32, torch.float64)


def _norms(tensors: list[torch.Tensor]) -> dict[torch.device, tuple[list[int], list[torch.Tensor]]]:
    """The 2-norms of ``tensors`` as 0-d tensors on their devices, by device (positions, norms): dense
    float32/float64 tensors in one ``torch._foreach_norm`` call per device, others one by one."""
    plain: dict[torch.device, tuple[list[int], list[torch.Tensor]]] = {}
    odd: list[int] = []
    for i, t in enumerate(tensors):
        if t.layout == torch.strided and t.dtype in _FOREACH:
            at, group = plain.setdefault(t.device, ([], []))
            at.append(i)
            group.append(t.detach())
        else:
            odd.append(i)
    out = {device: (at, list(torch._foreach_norm(group))) for device, (at, group) in plain.items()}
    for i in odd:
        value = _norm(tensors[i])
        at, group = out.setdefault(value.device, ([], []))
        at.append(i)
        group.append(value)
    return out


def _as_floats(parts: dict[torch.device, tuple[list[int], list[torch.Tensor]]], size: int) -> list[float]:
    """The values of :func:`_norms`-like parts as Python floats in position order: one transfer (and one
    host sync) per device."""
    out = [0.0] * size
    for at, values in parts.values():
        for i, v in zip(at, torch.stack(values).cpu().tolist()):
            out[i] = v
    return out


Sample = tuple[int, int, int]  # (offset, stride, count) of a parameter's compared elements, flat


@dataclass
class _Copies:
    """The compared elements of one device's parameters: the dtype they are read in, per parameter
    ``(layer position, parameter, strided sample or None for all of it, n/k scale)``, its number of
    compared values and, when they can be read in place, a flat view of them (it follows the step's
    in-place writes; None: read each time, through a cast or from a non-contiguous parameter); the
    buffer their before-step copy goes to, and its split."""

    dtype: torch.dtype
    entries: list[tuple[int, nn.Parameter, Sample | None, float]]
    sizes: list[int]
    views: list[torch.Tensor | None]
    buffer: torch.Tensor
    parts: tuple[torch.Tensor, ...]


@dataclass
class _Layout:
    """What the cheap tier reads at a sampled step, fixed while the optimizer's parameters, their
    shapes, dtypes and devices and which of them have gradients stay the same (``key``).

    ``layers``: the tracked layers the optimizer updates, with their series names. ``weights``: every
    such parameter, with its layer's position and whether the step moves it (it is dense and has a
    gradient); ``graded``: the parameters with a gradient, with their layer's position. ``moved``: per
    device, the elements compared before and after the step (:class:`_Copies`). ``device``: the one
    device of every tensor read when all are dense float32/float64 there (one ``_foreach_norm`` call
    for all the norms of a hook), else None."""

    key: tuple[list, list]
    updated: frozenset[int]
    tracked: list[TrackedLayer]  # the recorder's layers it was made from
    layers: list[TrackedLayer]
    names: list[tuple[str, str, str]]
    weights: list[tuple[int, nn.Parameter, bool]]
    graded: list[tuple[int, nn.Parameter]]
    moved: dict[torch.device, _Copies]
    device: torch.device | None
    params: list[nn.Parameter] = field(default_factory=list)
    base: list[nn.Parameter] = field(default_factory=list)  # the moved parameters, read before the step
    base_at: list[int] = field(default_factory=list)  # their layers' positions
    moved_at: list[tuple[int, float]] = field(default_factory=list)  # (layer position, scale) in ``moved`` order

    def __post_init__(self) -> None:
        self.params = [p for _, p, _ in self.weights]
        self.base = [p for _, p, moves in self.weights if moves]
        self.base_at = [i for i, _, moves in self.weights if moves]
        self.moved_at = [(i, scale) for copies in self.moved.values() for i, _, _, scale in copies.entries]

    @property
    def copy_bytes(self) -> int:
        """The kept before-step copies and the after-step read of the compared elements (as large)."""
        return sum(2 * c.buffer.numel() * c.buffer.element_size() for c in self.moved.values())


def _layout_key(params: list[nn.Parameter]) -> tuple[list, list]:
    """What a layout of ``params`` depends on: their storage (``.data = …`` and ``.to()`` change it, and
    with it any change of shape, dtype or device) and which have a gradient."""
    return [p.data_ptr() if p.layout == torch.strided else id(p) for p in params], [p.grad is None for p in params]


def sample_size(sizes: list[int], widths: list[int], budget: int) -> int:
    """How many elements of each parameter to compare: the largest ``k`` ≤ ``UPDATE_SAMPLE`` such that
    the parameters of at most ``k`` elements (compared whole) and ``k`` elements of each bigger one
    fit in ``budget`` values (``widths``: values per element, 2 for complex), but at least
    ``MIN_SAMPLE``.

    >>> sample_size([10, 100_000], [1, 1], 1_000_000), sample_size([10, 100_000, 100_000], [1, 1, 1], 2010)
    (4096, 1000)
    """
    order = sorted(range(len(sizes)), key=sizes.__getitem__)
    left, width = budget, sum(widths)
    for j in order:
        fair = min(UPDATE_SAMPLE, left // width)
        if sizes[j] > fair:
            return max(MIN_SAMPLE, fair)
        left -= sizes[j] * widths[j]
        width -= widths[j]
    return UPDATE_SAMPLE


_MASK = (1 << 64) - 1


def _mix(seed: int, j: int) -> int:
    """A well-spread 64-bit number from ``(seed, j)`` (splitmix64)."""
    z = (seed * 0x9E3779B97F4A7C15 + (j + 1) * 0xD1B54A32D192ED03) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def strided_sample(shape: tuple[int, ...], k: int, seed: int, j: int) -> Sample:
    """``k`` elements of a parameter of ``shape``, flat, evenly strided from an offset fixed by
    ``(seed, j)``: the stride is the largest at most n/k that shares no factor with a row's length
    (so the sample crosses every column, not one column of a matrix whose row length divides n/k).

    >>> offset, stride, k = strided_sample((128, 64), 1024, 0, 0)
    >>> stride, k, offset + stride * (k - 1) < 128 * 64
    (7, 1024, True)
    """
    n = math.prod(shape)
    row = n // shape[0] if len(shape) >= 2 and shape[0] else 1
    stride = max(1, n // k)
    while stride > 1 and math.gcd(stride, row) != 1:
        stride -= 1
    return _mix(seed, j) % (n - stride * (k - 1)), stride, k


def _compared(p: nn.Parameter, sample: Sample | None, dtype: torch.dtype) -> torch.Tensor:
    """The compared elements of ``p``, flat, in ``dtype``: a view where it can be (under ``torch.no_grad``),
    else read from ``p`` now (a cast; for a non-contiguous ``p``, one ``take`` of indices made here)."""
    t = p.detach()
    if sample is None:
        flat = t.reshape(-1)
    else:
        offset, stride, k = sample
        if t.is_contiguous():
            flat = t.view(-1)[offset::stride][:k]
        else:
            flat = torch.take(t, torch.arange(offset, offset + stride * k, stride, device=t.device))
    if flat.is_complex():
        flat = torch.view_as_real(flat).reshape(-1)
    return flat if flat.dtype == dtype else flat.to(dtype)


def _view(p: nn.Parameter, sample: Sample | None, dtype: torch.dtype) -> torch.Tensor | None:
    """:func:`_compared` when it is a view of ``p``'s storage (it follows the step's writes), else None."""
    if p.is_complex() or p.dtype != dtype or not p.is_contiguous():
        return None
    return _compared(p, sample, dtype)


def _gather(copies: _Copies) -> list[torch.Tensor]:
    """The compared elements of each of ``copies``' parameters as they are now."""
    return [view if view is not None else _compared(p, sample, copies.dtype)
            for (_, p, sample, _), view in zip(copies.entries, copies.views)]


class _Budget:
    """One tier's share of wall time. A sample may start while what the tier has spent, plus twice the
    cost of its last sample (a margin for one that costs more), fits in ``share`` × the time since the
    start; unused time is saved up for one sample at most (a loop that starts after a pause pays for one
    sample at once, not a burst: on a big model each costs tens of milliseconds), and the first
    ``warmup`` steps are sampled whatever they cost — the tier then waits until it is back under its
    share."""

    def __init__(self, share: float, warmup: int, started: float) -> None:
        self.share = share
        self.warmup = warmup
        self.floor = started  # time before this earns nothing (moves on when savings are capped)
        self.spent = 0.0
        self.cost = 0.0
        self.samples = 0
        self.at = -math.inf  # the earliest time the next sample can be due

    def due(self, now: float) -> bool:
        if now < self.at:
            return False
        cap = self.spent + 2 * self.cost  # the margin `paid` keeps: after a pause, one sample at once, then the usual spacing
        if self.share * (now - self.floor) > cap:
            self.floor = now - cap / self.share
        return True

    def paid(self, cost: float) -> None:
        self.spent += cost
        self.cost = cost
        self.samples += 1
        self._space()

    def reshare(self, share: float, now: float) -> None:
        """Take ``share`` from ``now`` on, in balance: what was spent counts as earned so far."""
        self.share = share
        if share >= 1:
            self.at = -math.inf
            return
        self.floor = now - self.spent / share
        self._space()

    def paid_more(self, extra: float) -> None:
        """The last sample cost ``extra`` more than was paid (seen only later)."""
        self.spent += extra
        self.cost += extra
        self._space()

    def _space(self) -> None:
        if self.share < 1 and self.samples >= self.warmup:
            self.at = self.floor + (self.spent + 2 * self.cost) / self.share


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
    """What a sampled step read before the optimizer ran, for the cheap tier (``layout`` set): the
    norms of the moved parameters and of the gradients (0-d tensors, not yet transferred; the compared
    elements went to the layout's buffers); whether the heavy tier samples this step (after it); with
    the time taken before the step."""

    layout: _Layout | None
    norms: dict[torch.device, tuple[list[int], list[torch.Tensor]]]
    cost: float
    heavy: bool


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
    version the shadow is built for. ``duty``: the share of wall time the statistics may take (1:
    every step, both tiers). ``samples`` counts the steps with norms and update ratios,
    ``heavy_samples`` those with dead shares (and maybe a picture).

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
        _check_duty(duty)
        self.model = model
        self.predictor = predictor
        self.probe = None if probe is None else np.asarray(probe)[:probe_rows(np.asarray(probe))]
        self.version = version
        self._duty = float(duty)
        self.step = 0
        self.samples = 0  # steps whose norms and update ratios were recorded (the cheap tier)
        self.heavy_samples = 0  # steps whose dead shares (and maybe a picture) were taken
        self.started = time.perf_counter()
        self.dead_problem = ""
        self._lock = threading.RLock()
        self.seed = int(seed)
        self._optimizer_params: "weakref.WeakKeyDictionary[torch.optim.Optimizer, tuple[int, frozenset[int]]]" = \
            weakref.WeakKeyDictionary()  # (not keyed by id: a new optimizer often takes a dropped one's)
        self._stepped_since_log = False
        cheap, heavy = _tier_shares(self._duty)
        self._cheap = _Budget(cheap, WARMUP, self.started)
        self._heavy = _Budget(heavy, 1, self.started)
        self._layout: _Layout | None = None
        self._pending: _Pending | None = None
        self._last_step_at: float | None = None  # when the last step's after-hook ended
        self._armed = False  # whether the next step's before-hook is wanted (a sample is due)
        self._quiet_steps: deque[float] = deque(maxlen=QUIET_STEPS)  # intervals around steps nothing sampled
        self._aftermath: tuple[_Budget, float] | None = None  # the tier that sampled the last step, and its charge
        self._watch: dict[str, _LayerWatch] = {}
        self._warnings: list[dict] = []
        self._warned: set[tuple[str, str]] = set()
        self._metrics = History(DEFAULT_POINTS)
        self._metric_names: set[str] = set()
        self._logged: list[tuple[int, dict[str, float]]] = []  # not yet in _metrics
        self._arrange()
        self._prepare()
        self.closed = False
        self._stop = on_steps(model, self)
        self._armed = True  # the first steps are sampled
        want_before(self, True)

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
    def duty(self) -> float:
        """The share of wall time the statistics may take. Set it to sample more or less from now on
        (time before counts at the share it had: no burst, no debt)."""
        return self._duty

    @duty.setter
    def duty(self, duty: float) -> None:
        _check_duty(duty)
        with self._lock:
            self._duty = float(duty)
            now = time.perf_counter()
            for tier, share in zip((self._cheap, self._heavy), _tier_shares(self._duty)):
                tier.reshare(share, now)
            self._want_before_if_due(now)

    @property
    def layer_names(self) -> list[str]:
        return [t.name for t in self.layers]

    # -- the user's metrics -----------------------------------------------------------------------
    def log(self, **metrics: float) -> int:
        """Record named metrics at the current step (optimizer steps heard); without a step heard since
        the last call, this call advances the step itself. Returns the step recorded at."""
        return self.record_metrics(metrics)[0]

    def record_metrics(self, metrics: dict[str, float]) -> tuple[int, float]:
        """:meth:`log` with the metrics in a dict, which is kept as it is (not copied: pass one nobody changes
        after, such as a call's ``**kwargs``). Returns the step recorded at, and how long ago the last
        optimizer step ended where one came since the last call (infinity where none did, or where that
        step's hook failed before it was timed).

        This runs in the user's loop, right after a training step filled the caches with its data: each
        function called or object touched costs microseconds then (a History.add here took 10 us, 1 us in a
        tight loop), hence the floats checked inline, and the values only noted (folded in later)."""
        values = metrics
        for value in metrics.values():
            if type(value) is not float:
                values = {name: check_metric(name, value) for name, value in metrics.items()}
                break
        with self._lock:
            new = [] if self._metric_names.issuperset(values) else [n for n in values if n not in self._metric_names]
            if new:
                self._check_new_metric_names(new)
            stepped, self._stepped_since_log = self._stepped_since_log, False
            if not stepped:
                self.step += 1
            self._metric_names.update(new)
            self._logged.append((self.step, values))
            if len(self._logged) >= LOG_BATCH:
                self._fold_logged()
            since = time.perf_counter() - self._last_step_at if stepped and self._last_step_at is not None else math.inf
            return self.step, since

    @property
    def metrics(self) -> History:
        """The logged metrics, every value logged so far included."""
        with self._lock:
            self._fold_logged()
            return self._metrics

    def _fold_logged(self) -> None:
        for step, values in self._logged:
            self._metrics.add(step, **values)
        self._logged.clear()

    def _check_new_metric_names(self, new: list[str]) -> None:
        for name in new:
            if not isinstance(name, str) or not name:
                raise ValueError(f"metric names must be non-empty strings, got {name!r}")
        if len(self._metric_names) + len(new) > MAX_METRICS:
            raise ValueError(f"at most {MAX_METRICS} metric names can be logged (memory stays bounded); "
                             f"new ones here: {new}")
        layers = set(self.layer_names)
        if any("/" in n and n.split("/", 1)[0] in layers and n.rsplit("/", 1)[-1] in STATS for n in new):
            raise ValueError(f"metric names like {new[0]!r} are the monitor's own layer statistics: choose another name")

    # -- step hooks (the training thread) ---------------------------------------------------------
    # A step's count and timing are taken after it, where the weights it wrote are whole. The before-hook is
    # wanted only for a sampled step (its reads of the weights must come before the step writes them): the
    # other steps pay no call before them (on a millisecond step, that call cost about 1 %).
    def before_step(self, optimizer: torch.optim.Optimizer) -> None:
        with self._lock:
            if self.closed:
                return
            now = time.perf_counter()
            started = time.thread_time()  # the whole sampled hook is the statistics' cost
            cheap, heavy = self._cheap.due(now), self._heavy.due(now)
            self._pending = None
            if cheap or heavy:
                with torch.no_grad():
                    self._pending = self._read_before(optimizer, cheap, heavy)
                self._pending.cost = time.thread_time() - started

    def after_step(self, optimizer: torch.optim.Optimizer) -> None:
        with self._lock:
            if self.closed:
                return
            self.step += 1
            self._stepped_since_log = True
            pending, self._pending = self._pending, None
            if pending is None and self._aftermath is None and not self._armed and self._last_step_at is not None:
                # Most steps: nothing sampled in this one or the last, nothing due yet (armed). What the two calls
                # below would do then, without the calls (see steps._after: this runs after every step).
                now = time.perf_counter()
                self._quiet_steps.append(now - self._last_step_at)
                self._last_step_at = now
                if now >= self._cheap.at or now >= self._heavy.at:
                    self._want_before_if_due(now)
                return
            sample = None if pending is None else self._take(pending)
            now = time.perf_counter()
            self._charge_aftermath(now, sample)
            self._want_before_if_due(now)

    def _want_before_if_due(self, now: float) -> None:
        armed = now >= self._cheap.at or now >= self._heavy.at
        if armed != self._armed:
            self._armed = armed
            want_before(self, armed)
        if not armed:  # reads from a before-hook whose step raised are no step's to record
            self._pending = None

    def _take(self, pending: _Pending) -> tuple[_Budget, float]:
        """(Under the lock, after a sampled step.) Record it, and charge each tier what it took; returns the
        tier that sampled (the heavy one where both did) and its charge."""
        started = time.thread_time()
        with torch.no_grad():
            cheap_cost, heavy_cost = self._record(pending)
        around = time.thread_time() - started - cheap_cost - heavy_cost  # no_grad, the bookkeeping here
        if pending.layout is not None:
            cheap_cost += around
        else:
            heavy_cost += around
        if pending.layout is not None:
            self._cheap.paid(pending.cost + cheap_cost)
            self.samples += 1
        if pending.heavy:
            self._heavy.paid((0.0 if pending.layout is not None else pending.cost) + heavy_cost)
            self.heavy_samples += 1
        return (self._heavy, self._heavy.cost) if pending.heavy else (self._cheap, self._cheap.cost)

    def _charge_aftermath(self, now: float, sample: tuple[_Budget, float] | None = None) -> None:
        """(Under the lock, at a step's end; ``sample``: the tier that sampled this step and its charge.) A
        sample costs the training more than its own CPU time: its reads leave the caches cold for what
        follows (on notebook 03's 1.3 ms steps, several times as much again). So the interval from a sampled
        step's end to the next one's, beyond the median of recent intervals with no sample in them (and any
        charge for a sample of its own), is charged to the sample's tier too, up to ``AFTERMATH_CAP`` times
        its charge (a pause in the user's loop is not the sample's). A sampled step's own interval holds its
        CPU time, charged already: it is not a quiet one."""
        last, self._last_step_at = self._last_step_at, now
        aftermath, self._aftermath = self._aftermath, sample
        if last is None:
            return
        interval = now - last
        if aftermath is not None:
            if len(self._quiet_steps) >= 5:
                tier, charged = aftermath
                extra = interval - statistics.median(self._quiet_steps) - (sample[1] if sample is not None else 0.0)
                extra = min(extra, AFTERMATH_CAP * charged)
                if extra > 0:
                    tier.paid_more(extra)
        elif sample is None:
            self._quiet_steps.append(interval)

    def _params_of(self, optimizer: torch.optim.Optimizer) -> tuple[frozenset[int], bool]:
        """The ids of the parameters ``optimizer`` updates, and whether they changed since its last step."""
        count = param_count(optimizer)
        try:
            cached = self._optimizer_params.get(optimizer)
        except TypeError:  # an optimizer that cannot be weakly referenced: read each time
            cached = None
        if cached is None or cached[0] != count:
            cached = (count, frozenset(id(p) for g in optimizer.param_groups for p in g["params"]))
            try:
                self._optimizer_params[optimizer] = cached
            except TypeError:
                pass
            return cached[1], True
        return cached[1], False

    def _layout_of(self, updated: frozenset[int]) -> _Layout:
        """The cheap tier's reads for the parameters ``updated`` (cached while nothing they depend on
        changes)."""
        layout = self._layout
        if layout is not None and layout.updated is updated and layout.tracked is self.layers \
                and layout.key == _layout_key(layout.params):
            return layout
        self._layout = None  # its buffers go before the new ones are made
        layers, names, weights, graded = [], [], [], []
        for layer in self.layers:
            params = [p for p in layer.params if id(p) in updated]
            if not params:
                continue
            i = len(layers)
            layers.append(layer)
            names.append(tuple(series_name(layer.name, stat) for stat in STATS[:3]))
            for p in params:
                weights.append((i, p, p.grad is not None and p.layout == torch.strided))
                if p.grad is not None:
                    graded.append((i, p))
        moving = [(i, p) for i, p, moves in weights if moves]
        wide = any(p.dtype in (torch.float64, torch.complex128) for _, p in moving)
        k = sample_size([p.numel() for _, p in moving], [2 if p.is_complex() else 1 for _, p in moving],
                        COPY_BUDGET // (2 * (8 if wide else 4)))
        grouped: dict[torch.device, tuple[torch.dtype, list, list[int]]] = {}
        for j, (i, p) in enumerate(moving):
            sample = None if p.numel() <= k else strided_sample(tuple(p.shape), k, self.seed, j)
            scale = 1.0 if sample is None else p.numel() / k
            kind = torch.float64 if p.dtype in (torch.float64, torch.complex128) else torch.float32
            dtype, entries, sizes = grouped.get(p.device, (kind, [], []))
            grouped[p.device] = (torch.promote_types(dtype, kind), entries, sizes)
            entries.append((i, p, sample, scale))
            sizes.append((2 if p.is_complex() else 1) * (p.numel() if sample is None else k))
        moved = {}
        for device, (dtype, entries, sizes) in grouped.items():
            buffer = torch.empty(sum(sizes), dtype=dtype, device=device)
            moved[device] = _Copies(dtype, entries, sizes, [_view(p, sample, dtype) for _, p, sample, _ in entries],
                                    buffer, buffer.split(sizes))
        read = [p for _, p, _ in weights] + [p.grad for _, p in graded]
        devices = {t.device for t in read}
        plain = len(devices) == 1 and all(t.layout == torch.strided and t.dtype in _FOREACH for t in read)
        self._layout = _Layout(_layout_key([p for _, p, _ in weights]), updated, self.layers, layers, names, weights, graded,
                               moved, devices.pop() if plain else None)
        return self._layout

    def _read_before(self, optimizer: torch.optim.Optimizer, cheap: bool, heavy: bool) -> _Pending:
        """The cheap tier's reads before the step: the norms of the moved parameters (the update ratio's
        base) and of the gradients, and a copy of the compared elements (into the layout's buffers)."""
        updated, changed = self._params_of(optimizer)
        if (changed or heavy) and structure_key(self.model) != self._structure:
            self._arrange()
        layout, norms = None, {}
        if cheap:
            layout = self._layout_of(updated)
            read = layout.base + [p.grad for _, p in layout.graded]
            if layout.device is not None and read:  # the usual case: one call for every norm
                norms = {layout.device: (range(len(read)), list(torch._foreach_norm(read)))}
            elif read:
                norms = _norms(read)
            for copies in layout.moved.values():  # one cat into the kept buffer (no allocation, split once)
                torch.cat(_gather(copies), out=copies.buffer)
        return _Pending(layout, norms, 0.0, heavy)  # before_step sets the cost (its whole sampled part)

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

    def _prepare(self) -> None:
        """The heavy tier's one-time set-up (the shadow, first calls), done here on the building thread,
        not in a training step: its results are dropped, and a failure is left to the first sample."""
        with torch.no_grad():
            try:
                self._pictures()
                self._dead_shares(quiet=True)
            except Exception:  # noqa: BLE001 (said when a step samples, if it persists)
                pass

    def _dead_shares(self, quiet: bool = False) -> dict[str, float]:
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
            if quiet:
                return {}
            self.dead_problem = f"dead units are not measured: {type(error).__name__}: {error}"
            return {}
        return {targets[name]: dead_share(f) for name, f in flags.items() if f.rows}

    def _cheap_stats(self, pending: _Pending) -> list[tuple[float, float | None, float | None]]:
        """Per layer of the layout, after the step: weight norm, gradient norm (None: no gradient), update
        ratio (None: none), from one transfer per device."""
        layout = pending.layout
        n_b, n_g, n_w = len(layout.base), len(layout.graded), len(layout.weights)
        position = n_b + n_g + n_w
        diffs = {}
        for device, copies in layout.moved.items():  # the kept copies become old - new, in place
            copies.buffer.sub_(torch.cat(_gather(copies)))
            diffs[device] = (range(position, position + len(copies.entries)), list(torch._foreach_norm(copies.parts)))
            position += len(copies.entries)
        if layout.device is not None and len(diffs) <= 1:  # one device: one stack, one transfer
            before = pending.norms[layout.device][1] if pending.norms else []
            after = torch._foreach_norm(layout.params)
            floats = torch.stack([*before, *after, *(norm for _, values in diffs.values() for norm in values)]).tolist()
        else:
            parts = {device: (list(at), list(values)) for device, (at, values) in pending.norms.items()}
            for extra in ({d: ([n_b + n_g + i for i in at], values) for d, (at, values) in _norms(layout.params).items()},
                          diffs):
                for device, (at, values) in extra.items():
                    have_at, have = parts.setdefault(device, ([], []))
                    have_at.extend(at)
                    have.extend(values)
            floats = _as_floats(parts, position)
        count = len(layout.layers)
        weight_sq, base_sq, grad_sq, moved_sq = [0.0] * count, [0.0] * count, [0.0] * count, [0.0] * count
        has_grad, has_moved = [False] * count, [False] * count
        for i, v in zip(layout.base_at, floats):  # the update ratio's base: the moved weights before the step
            base_sq[i] += v * v
        for (i, _), v in zip(layout.graded, floats[n_b:]):
            grad_sq[i] += v * v
            has_grad[i] = True
        for (i, _, _), v in zip(layout.weights, floats[n_b + n_g:]):
            weight_sq[i] += v * v
        for (i, scale), v in zip(layout.moved_at, floats[n_b + n_g + n_w:]):
            moved_sq[i] += v * v * scale
            has_moved[i] = True
        out = []
        for i in range(count):
            ratio = math.sqrt(moved_sq[i] / base_sq[i]) if has_moved[i] and base_sq[i] > 0 else None
            out.append((math.sqrt(weight_sq[i]), math.sqrt(grad_sq[i]) if has_grad[i] else None, ratio))
        return out

    def _record(self, pending: _Pending) -> tuple[float, float]:
        """Record a sampled step from after it (the model after step ``step``); returns the time each
        tier took here (the bookkeeping is the cheap tier's when it sampled)."""
        started = time.thread_time()
        step = self.step
        stats = self._cheap_stats(pending) if pending.layout is not None else None
        cheap_cost = time.thread_time() - started
        dead, snapshot = {}, None
        if pending.heavy:
            snapshot = self._pictures() if self.snapshots.wants() else None
            dead = self._dead_shares()
        heavy_cost = time.thread_time() - started - cheap_cost
        records: dict[str, float] = {}
        unchecked = dict(dead)
        if stats is not None:
            largest = max((g for _, g, _ in stats if g is not None and math.isfinite(g)), default=0.0)
            for layer, names, (weight, grad, ratio) in zip(pending.layout.layers, pending.layout.names, stats):
                records[names[0]] = weight
                if grad is not None:
                    records[names[1]] = grad
                if ratio is not None:
                    records[names[2]] = ratio
                self._check(layer.name, step, grad, largest, ratio, unchecked.pop(layer.name, None))
        for name, share in dead.items():
            records[series_name(name, "dead_share")] = share
        for name, share in unchecked.items():  # layers not in a cheap sample
            self._check(name, step, None, 0.0, None, share)
        if records:
            self.layer_history.add(step, **records)
        if pending.heavy:
            self.snapshots.add(step, snapshot)
        spent = time.thread_time() - started - cheap_cost - heavy_cost
        if stats is not None:
            return cheap_cost + spent, heavy_cost
        return cheap_cost, heavy_cost + spent

    # -- warnings ---------------------------------------------------------------------------------
    def _warn(self, kind: str, layer: str, step: int, text: str) -> None:
        if (kind, layer) not in self._warned:
            self._warned.add((kind, layer))
            self._warnings.append({"kind": kind, "layer": layer, "step": step, "text": text})

    def _check(self, name: str, step: int, grad: float | None, largest: float, ratio: float | None,
               share: float | None) -> None:
        watch = self._watch.get(name)
        if watch is None:
            watch = self._watch[name] = _LayerWatch()
        if grad is not None:
            if not math.isfinite(grad):
                what = "NaN" if math.isnan(grad) else "infinite"
                self._warn("exploding_gradients", name, step,
                           f"gradients of {name} are {what} at step {step}: training diverged "
                           "(lower the learning rate, clip gradients, check the loss and the inputs)")
            elif len(watch.early_grads) < 3:
                watch.early_grads.append(grad)
            else:
                early = statistics.median(watch.early_grads)
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
            if len(watch.ratios) >= SUSTAINED_EARLY:
                typical = statistics.median(watch.ratios)
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
        """``(s, picture)``: ``layer``'s weights as they were after optimizer step ``s``, the last step at
        or before ``step`` with a stored picture (the first one if ``step`` comes before it); None
        without any."""
        with self._lock:
            taken = [(s, item[layer]) for s, item in self.snapshots.items if item is not None and layer in item]
        if not taken:
            return None
        steps = [s for s, _ in taken]
        i = max(0, int(np.searchsorted(steps, step, side="right")) - 1)
        return taken[i]

    def picture_at(self, step: int, layer: str) -> tuple[int, Heatmap, bool] | None:
        """``(s, picture, live)``: ``layer``'s weights as they were after step ``s`` — for ``step`` -1, or
        one at or past the step the model is at now, the weights now (``live``; ``s`` is that step),
        else the stored picture :meth:`snapshot_at` finds. None when there is none."""
        now = self.step  # (counted once a step has written the weights)
        if step < 0 or step >= now:
            heat = self.live_picture(layer)
            return None if heat is None else (now, heat, True)
        found = self.snapshot_at(step, layer)
        return None if found is None else (*found, False)

    def live_picture(self, layer: str) -> Heatmap | None:
        """``layer``'s weights as they are now, pooled like the snapshots."""
        tracked = next((t for t in self.layers if t.name == layer), None)
        if tracked is None or tracked.picture is None:
            return None
        heat = heatmap(tracked.module, tracked.picture, None, self.snapshot_cells)
        return replace(heat, values=np.asarray(heat.values, dtype=np.float32))

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the records: the series, the snapshots, the probe rows, and the compared
        elements' kept before-step copy with the after-step read of them (as large)."""
        with self._lock:
            snaps = sum(h.values.nbytes + 256 for _, item in self.snapshots.items if item for h in item.values())
            copies = self._layout.copy_bytes if self._layout is not None else 0
        probe = 0 if self.probe is None else self.probe.nbytes
        return self.metrics.nbytes + self.layer_history.nbytes + snaps + copies + probe

    @property
    def stat_seconds(self) -> float:
        """What the statistics have cost so far, both tiers (see :attr:`overhead`)."""
        return self._cheap.spent + self._heavy.spent

    @property
    def overhead(self) -> float:
        """The share of wall time since the start that the statistics took (their CPU time on the
        training thread, and the slowdown of the steps they were taken in, beyond that)."""
        return self.stat_seconds / max(time.perf_counter() - self.started, 1e-9)

    def close(self) -> None:
        """Stop listening; the records stay readable. What the dead-unit probe ran through (the
        inspector's predictor) is let go: a closed monitor the user keeps holds no inspector."""
        with self._lock:
            self.closed = True
            self.predictor, self.version = None, _no_version
        self._stop()


def _no_version() -> int:
    return 0


def _check_duty(duty: object) -> None:
    if isinstance(duty, bool) or not (isinstance(duty, (int, float)) and 0 < duty <= 1):
        raise ValueError(f"duty must be a share of wall time in (0, 1], got {duty!r}")


def _tier_shares(duty: float) -> tuple[float, float]:
    """The cheap and the heavy tier's shares of ``duty`` (both every step at 1)."""
    if duty >= 1:
        return 1.0, 1.0
    return duty * CHEAP_SHARE, duty * (1 - CHEAP_SHARE)


def check_metric(name: object, value: object) -> float:
    """A logged metric as a float, or a clear error.

    >>> check_metric("loss", 0.5)
    0.5
    >>> check_metric("loss", "high")
    Traceback (most recent call last):
    ...
    TypeError: metric 'loss' must be a number (or a one-element tensor), got str
    """
    if type(value) is float and type(name) is str and name:  # the usual call (loss.item()), checked first: an
        return value  # isinstance against torch's and numpy's types costs ~10 us right after a training step
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
