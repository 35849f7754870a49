"""Feature maps: what a convolutional layer outputs for one picture, channel by channel, captured by a
forward hook on the inspector's shadow (the forward stops right after that layer); the first conv
layer's filters as tiles; maps shrunk for the screen keeping their extremes."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import nn

from .layer_table import resolve_layer
from .predictor import first_tensor
from .shadow import check_runnable
from .tasks import Task

if TYPE_CHECKING:
    from .inspector import Inspector

CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
MAX_CELLS = 1 << 17  # cells of all maps together on the screen (64 maps of 45 × 45)


class _Captured(Exception):
    """Raised by the capturing hook once the layer's output is kept: the rest of the forward is skipped."""


@dataclass(frozen=True)
class FeatureMapsResult:
    """``maps``: the layer's output for the picture as (channels, h, w) float64 (Conv1d: h = 1; Conv3d:
    the depth slices stacked, (channels, d·h, w)); ``means`` per channel; ``shape``: the output's own shape
    (without the batch axis); ``seconds`` the capture took."""

    layer: str
    type: str
    maps: np.ndarray
    means: np.ndarray
    shape: tuple[int, ...]
    seconds: float


def as_channel_maps(output: np.ndarray | torch.Tensor, name: str = "", kind: str = "") -> np.ndarray:
    """One picture's layer output, with its batch axis — (1, C, *positions) — as (C, h, w) float64, or a
    ``ValueError`` saying which layers have channel maps.

    >>> as_channel_maps(np.zeros((1, 4, 5, 6))).shape, as_channel_maps(np.zeros((1, 2, 7))).shape
    ((4, 5, 6), (2, 1, 7))
    """
    if isinstance(output, torch.Tensor):
        output = output.detach().float().cpu().numpy()
    array = np.asarray(output, dtype=np.float64)[0]
    if array.ndim == 2:
        return array[:, None, :]
    if array.ndim == 3:
        return array
    if array.ndim == 4:
        c, d, h, w = array.shape
        return array.reshape(c, d * h, w)
    what = f"layer {name!r} ({kind})" if name or kind else "this layer"
    raise ValueError(f"{what} outputs shape {tuple(np.shape(output))}, not channel maps: feature maps need a "
                     f"convolutional layer (or a BatchNorm, activation or pooling after one), whose output has channels "
                     f"and positions")


def capture_output(ins: "Inspector", layer: str, rows: np.ndarray, version: int) -> torch.Tensor:
    """The output of module ``layer`` of the inspector's shadow for ``rows`` (first call, when a module
    runs more than once), by a forward hook that stops the forward there. The user's model is not run."""
    check_runnable(ins.model)
    resolve_layer(ins.model, layer)  # a clear error for unknown names
    with ins.predictor.shadows.use(version) as shadow:
        return layer_output(shadow, layer, ins.predictor.inputs(rows)).detach()


def layer_output(shadow: nn.Module, layer: str, inputs: torch.Tensor) -> torch.Tensor:
    """The output of module ``layer`` of ``shadow`` (its first call) for ``inputs``: a forward hook on the
    shadow keeps it and ends the forward there (what comes after the layer never runs)."""
    kept: list[torch.Tensor] = []

    def hook(_module: nn.Module, _inputs: Any, output: Any) -> None:
        out = first_tensor(output)
        if out is not None:
            kept.append(out)
            raise _Captured

    handle = shadow.get_submodule(layer).register_forward_hook(hook)
    try:
        shadow(inputs)
    except _Captured:
        pass
    finally:
        handle.remove()
    if not kept:
        raise ValueError(f"layer {layer!r} did not run in the model's forward pass (or returned no tensor)")
    return kept[0]


def feature_maps(ins: "Inspector", layer_name: str, version: int | None = None,
                 values: np.ndarray | None = None) -> FeatureMapsResult:
    """The channel maps of ``layer_name`` for the current picture (``ins.values``, or ``values``)."""
    start = time.perf_counter()
    v = ins.version if version is None else version
    row = np.asarray(ins.values if values is None else values, dtype=np.float64)[None]
    module = resolve_layer(ins.model, layer_name)
    kind = type(module).__name__
    if isinstance(module, nn.Linear):
        raise ValueError(f"layer {layer_name!r} is a Linear layer: its units have no positions, so there are no "
                         f"feature maps; choose a convolutional layer")
    out = capture_output(ins, layer_name, row, v)
    maps = as_channel_maps(out, layer_name, kind)
    return FeatureMapsResult(layer_name, kind, maps, maps.mean(axis=(1, 2)), tuple(out.shape[1:]), time.perf_counter() - start)


@dataclass(frozen=True)
class FeatureMapsTask(Task):
    """The channel maps of ``layer`` for the picture ``values`` (cached per model version)."""

    values: tuple[float, ...]
    layer: str
    priority: ClassVar[int] = 1
    keep: ClassVar[int] = 32

    def run(self, ins, version, job) -> FeatureMapsResult:
        return feature_maps(ins, self.layer, version, np.array(self.values))

    def describe(self, ins):
        return f"capturing the feature maps of {self.layer}"


@dataclass(frozen=True)
class LayerShapes(Task):
    """Every named module's output shape (without the batch axis) for one picture of the data: which
    layers have channel maps. One forward pass per model version."""

    priority: ClassVar[int] = 2
    keep: ClassVar[int] = 2

    def run(self, ins, version, job) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {}

        def capture(_start: int, seen: dict) -> None:
            shapes.update({name: tuple(out.shape[1:]) for name, (_, out) in seen.items()})

        names = tuple(name for name, _ in ins.model.named_modules() if name)
        ins.predictor.raw(ins.data.X[:1], version, capture=capture, names=names)
        return {name: shapes[name] for name in names if name in shapes}

    def describe(self, ins):
        return "finding the layers with channel maps"


def map_layers(model: nn.Module, shapes: dict[str, tuple[int, ...]]) -> list[tuple[str, str, tuple[int, ...]]]:
    """``(name, type, shape)`` of the modules whose output has channels and positions (2 to 4 axes per
    picture), in the model's order; containers (a ResNet block) included."""
    modules = dict(model.named_modules())
    return [(n, type(modules[n]).__name__, s) for n, s in shapes.items() if n in modules and 2 <= len(s) <= 4]


def first_conv(model: nn.Module) -> tuple[str, nn.Module]:
    """The first Conv1d/2d/3d module (registration order) and its name; a ``ValueError`` when there is none."""
    for name, module in model.named_modules():
        if isinstance(module, CONVS):
            return name, module
    raise ValueError(f"{type(model).__name__} has no Conv1d/Conv2d/Conv3d layer: there are no filters to show")


def first_layer_filters(model: nn.Module) -> np.ndarray:
    """The first conv layer's weights as tiles (out, in, kh, kw) float64, read with ``.detach()`` only
    (Conv1d: kh = 1; Conv3d: the depth slices stacked, kd·kh).

    >>> first_layer_filters(nn.Sequential(nn.Conv2d(3, 8, 5))).shape
    (8, 3, 5, 5)
    """
    _, conv = first_conv(model)
    w = conv.weight.detach().float().cpu().numpy().astype(np.float64)
    if w.ndim == 3:
        return w[:, :, None, :]
    if w.ndim == 5:
        o, i, d, h, k = w.shape
        return w.reshape(o, i, d * h, k)
    return w


@dataclass(frozen=True)
class Shrunk:
    """Maps shrunk to (C, h', w'): each cell a ``block`` × ``block`` square's value farthest from its map's
    mid-range (so each map's maximum and minimum stay); ``block`` 1 when they were small enough."""

    maps: np.ndarray
    block: int


def shrink_maps(maps: np.ndarray, max_cells: int = MAX_CELLS) -> Shrunk:
    """``maps`` (C, h, w) as at most about ``max_cells`` cells in all, keeping extremes: every map's own
    maximum and minimum survive (moved to the next cell when both fall in one block).

    >>> m = np.zeros((1, 4, 4)); m[0, 0, 0], m[0, 3, 2] = 5.0, -2.0
    >>> s = shrink_maps(m, max_cells=4); s.block, float(s.maps.max()), float(s.maps.min())
    (2, 5.0, -2.0)
    """
    c, h, w = maps.shape
    block = 1
    while c * math.ceil(h / block) * math.ceil(w / block) > max_cells and block < max(h, w):
        block += 1
    if block == 1:
        return Shrunk(maps, 1)
    t = torch.from_numpy(np.ascontiguousarray(maps))[None]
    pool = lambda x: torch.nn.functional.max_pool2d(x, block, block, ceil_mode=True)[0].numpy()  # noqa: E731
    hi, lo = pool(t), -pool(-t)
    flat = maps.reshape(c, -1)
    top, bottom = flat.max(axis=1), flat.min(axis=1)
    mid = ((top + bottom) / 2)[:, None, None]
    out = np.where(hi - mid >= mid - lo, hi, lo)
    for k in range(c):  # both extremes in one block: the one that lost goes to a neighbouring cell
        for value, index in ((top[k], flat[k].argmax()), (bottom[k], flat[k].argmin())):
            if not (out[k] == value).any():
                y, x = divmod(int(index), w)
                y, x = y // block, x // block
                ny, nx = (y, x + 1) if x + 1 < out.shape[2] else (y, x - 1) if x > 0 else (y + 1 if y + 1 < out.shape[1] else y - 1, x)
                if 0 <= ny < out.shape[1] and 0 <= nx < out.shape[2]:
                    out[k, ny, nx] = value
    return Shrunk(out, block)


def channel_order(means: np.ndarray, by_mean: bool) -> np.ndarray:
    """The channels' display order: by index, or by mean activation, highest first (ties by index).

    >>> channel_order(np.array([0.1, 0.5, 0.1]), True).tolist()
    [1, 0, 2]
    """
    n = len(means)
    return np.argsort(-np.asarray(means, dtype=np.float64), kind="stable") if by_mean else np.arange(n)
