"""One forward pass over all of X that serves every view needing the data: the model's outputs
(surrogate targets, importance baselines), each layer's dead/saturated units, and each activation
function's input/output histograms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .activation_analysis import ActivationUse, activation_layers, activation_use, curve, curve_grid
from .activations import UnitFlags, flatten_rows, leaf_layers
from .predictor import Predictor, model_device, model_dtype

HISTOGRAM_ROWS = 20_000


@dataclass(frozen=True)
class DatasetPass:
    """``raw``: the model's outputs on X (rows × columns); ``flags[layer]``: ``(dead, saturated)``
    per unit over all rows; ``analysis``: activation layers' histograms from ``histogram_rows`` rows."""

    raw: np.ndarray
    flags: dict[str, tuple[np.ndarray, np.ndarray]]
    analysis: list[ActivationUse]
    histogram_rows: int


def dataset_pass(
    predictor: Predictor,
    X: np.ndarray,
    version: int,
    *,
    check: Callable[[], None] | None = None,
    progress: Callable[[float], None] | None = None,
    histogram_rows: int = HISTOGRAM_ROWS,
    seed: int = 0,
) -> DatasetPass:
    """Run the model over ``X`` once, in chunks, with hooks on its (shadow's) layers."""
    model = predictor.model
    modules = dict(model.named_modules())
    leaves = [name for name, _ in leaf_layers(model)]
    activations = activation_layers(model)
    flags = {name: UnitFlags(modules[name]) for name in leaves}
    n = len(X)
    sample = np.arange(n) if n <= histogram_rows else np.sort(np.random.default_rng(seed).choice(n, histogram_rows, replace=False))
    pre: dict[str, list[np.ndarray]] = {name: [] for name in activations}
    post: dict[str, list[np.ndarray]] = {name: [] for name in activations}
    channels: dict[str, int] = {}

    def capture(start: int, seen: dict[str, tuple[torch.Tensor | None, torch.Tensor]]) -> None:
        for name, (inputs, output) in seen.items():
            values = flatten_rows(output)
            if name in flags:
                flags[name].add(values)
            if name in pre and inputs is not None:
                lo, hi = np.searchsorted(sample, [start, start + len(values)])
                picked = sample[lo:hi] - start
                pre[name].append(flatten_rows(inputs)[picked])
                post[name].append(values[picked])
                channels[name] = inputs.shape[1] if inputs.dim() > 1 else 1

    names = tuple(dict.fromkeys(leaves + activations))
    raw = predictor.raw(X, version, capture=capture, names=names, check=check, progress=progress)
    results = {name: f.result() for name, f in flags.items()}
    uses = []
    with predictor.shadows.use(version) as shadow:
        for name in activations:
            if not pre[name]:
                continue
            pre_values, post_values = np.concatenate(pre[name]), np.concatenate(post[name])
            grid = curve_grid(pre_values)
            try:
                y = curve(shadow.get_submodule(name), grid, channels.get(name, 1), model_dtype(model), model_device(model))
            except RuntimeError:
                y = None
            dead, saturated = results.get(name) or UnitFlags(modules[name]).result()
            uses.append(activation_use(name, modules[name], pre_values, post_values, dead, saturated, y, grid))
    return DatasetPass(raw, results, uses, int(len(sample)))
