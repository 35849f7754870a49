"""Activations of image models channel by channel: every layer's output for the current picture (channel
maps shrunk for the screen where the output has positions) and, over a probe of pictures, the channels
that are dead (a rectifier's channel zero on nearly every picture) or saturated (at a bound of a
squashing activation nearly everywhere)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from .activations import SATURATED_SHARE, SATURATION_MARGIN, UnitFlags, bounds, flatten_rows, leaf_layers, RECTIFIERS
from .feature_maps import as_channel_maps, shrink_maps
from .sampling import random_rows
from .tasks import Task

PROBE_IMAGES = 256
PROBE_CHUNK = 16
DEAD_SHARE = 0.01  # a channel active on at most 1 % of the probe pictures is dead
LAYER_CELLS = 1 << 14  # cells per layer's maps in the Activations view


class ChannelFlags:
    """Dead and saturated channels of one layer whose output is (n, C, *positions), accumulated over chunks."""

    def __init__(self, module: nn.Module) -> None:
        self.rectifier = isinstance(module, RECTIFIERS)
        self.bounds = bounds(module)
        self.images = 0
        self.values = 0
        self.active: np.ndarray | None = None
        self.near_bound: np.ndarray | None = None

    def add(self, output: torch.Tensor) -> None:
        flat = output.detach().float().reshape(output.shape[0], output.shape[1], -1)
        if self.active is None:
            self.active = np.zeros(flat.shape[1], np.int64)
            self.near_bound = np.zeros(flat.shape[1], np.int64)
        if flat.shape[1] != len(self.active):
            return
        self.images += flat.shape[0]
        self.values += flat.shape[0] * flat.shape[2]
        if self.rectifier:
            self.active += (flat.amax(dim=2) > 0).sum(dim=0).cpu().numpy()
        if self.bounds is not None:
            lo, hi = self.bounds
            margin = SATURATION_MARGIN * (hi - lo)
            self.near_bound += ((flat <= lo + margin) | (flat >= hi - margin)).sum(dim=(0, 2)).cpu().numpy()

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """``(dead, saturated)`` per channel: a rectifier's channel positive (anywhere) on at most 1 % of the
        pictures; a bounded channel within 2 % of a bound at 95 % of its values over all pictures."""
        channels = 0 if self.active is None else len(self.active)
        if not channels:
            return np.zeros(0, bool), np.zeros(0, bool)
        dead = self.active <= DEAD_SHARE * self.images if self.rectifier else np.zeros(channels, bool)
        saturated = (self.near_bound / max(self.values, 1) >= SATURATED_SHARE) if self.bounds is not None else np.zeros(channels, bool)
        return dead, saturated


@dataclass(frozen=True)
class ProbeFlagsResult:
    """``flags[layer] = (dead, saturated, per)``: per channel (``per == "channel"``) for outputs with
    positions, per unit otherwise; over ``images`` probe pictures."""

    flags: dict[str, tuple[np.ndarray, np.ndarray, str]]
    images: int


@dataclass(frozen=True)
class ProbeFlags(Task):
    """Dead and saturated channels (and units) of every leaf layer over a seeded probe of the pictures."""

    images: int = PROBE_IMAGES
    lane: ClassVar[str] = "slow"
    priority: ClassVar[int] = 0
    keep: ClassVar[int] = 1

    def run(self, ins, version, job) -> ProbeFlagsResult:
        rows = random_rows(ins.data.n_rows, self.images, 0)
        modules = dict(ins.model.named_modules())
        names = tuple(name for name, _ in leaf_layers(ins.model))
        acc: dict[str, ChannelFlags | UnitFlags] = {}

        def capture(_start: int, seen: dict) -> None:
            for name, (_, out) in seen.items():
                if name not in acc:
                    acc[name] = ChannelFlags(modules[name]) if out.dim() >= 3 else UnitFlags(modules[name])
                acc[name].add(out if isinstance(acc[name], ChannelFlags) else flatten_rows(out))

        for start in range(0, len(rows), PROBE_CHUNK):
            job.check()
            job.progress(start / len(rows), f"flagging dead channels over {len(rows):,} pictures")
            ins.predictor.raw(ins.data.X[rows[start:start + PROBE_CHUNK]], version, capture=capture, names=names)
        flags = {name: (*a.result(), "channel" if isinstance(a, ChannelFlags) else "unit") for name, a in acc.items()}
        return ProbeFlagsResult(flags, len(rows))

    def describe(self, ins):
        return f"flagging dead channels over {min(self.images, ins.data.n_rows):,} pictures"


@dataclass(frozen=True)
class LayerOutput:
    """One layer's output for a picture: ``values`` flat (units), or channel ``maps`` (C, h', w') shrunk
    by ``block`` from ``shape``, with each channel's exact mean (``means``)."""

    values: np.ndarray
    maps: np.ndarray | None
    block: int
    shape: tuple[int, ...]
    means: np.ndarray | None = None


@dataclass(frozen=True)
class LayerMaps(Task):
    """Every leaf layer's output for the picture ``values``: channel maps (shrunk, keeping extremes) where the
    output has positions, flat units elsewhere. One forward pass."""

    values: tuple[float, ...]
    priority: ClassVar[int] = 0
    keep: ClassVar[int] = 8

    def run(self, ins, version, job) -> dict[str, LayerOutput]:
        outputs: dict[str, LayerOutput] = {}

        def capture(_start: int, seen: dict) -> None:
            for name, (_, out) in seen.items():
                if out.dim() >= 3:
                    maps = as_channel_maps(out[:1])
                    shrunk = shrink_maps(maps, LAYER_CELLS)
                    outputs[name] = LayerOutput(shrunk.maps.ravel(), shrunk.maps, shrunk.block, tuple(out.shape[1:]),
                                                maps.mean(axis=(1, 2)))
                else:
                    values = flatten_rows(out)[0].astype(np.float64)
                    outputs[name] = LayerOutput(values, None, 1, tuple(out.shape[1:]))

        names = tuple(name for name, _ in leaf_layers(ins.model))
        ins.predictor.raw(np.array([self.values]), version, capture=capture, names=names)
        return outputs

    def describe(self, ins):
        return "capturing every layer's output for the picture"


def image_layer_activity(model: nn.Module, outputs: dict[str, LayerOutput], probe: ProbeFlagsResult | None) -> list:
    """Each leaf layer's output for the picture (``LayerMaps``) with its flags over the probe (none yet:
    nothing flagged): layers with positions as channel maps flagged per channel, the others per unit."""
    from .activations import LayerActivity  # the table's record, with the maps beside it

    activity = []
    flags = {} if probe is None else probe.flags
    for name, module in leaf_layers(model):
        out = outputs.get(name)
        if out is None:
            continue
        width = len(out.maps) if out.maps is not None else len(out.values)
        dead, saturated, per = flags.get(name, (np.zeros(width, bool), np.zeros(width, bool), ""))
        if len(dead) != width or (per == "channel") != (out.maps is not None):
            dead = saturated = np.zeros(width, bool)
        activity.append(LayerActivity(name, type(module).__name__, out.values, dead, saturated, out.maps, out.block, out.shape, out.means))
    return activity
