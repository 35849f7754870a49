"""Unit visualisation by gradient ascent: a picture, optimised from seeded noise, that excites one target
of the model — a channel of a layer with channel maps (the mean of its map), a unit of a layer with units
(a Linear layer's output), or a class's output (``layer`` "" or "output", ``unit`` the class index: the
model's raw output column, its logit for a classifier that outputs logits).

Everything runs on the inspector's read-only shadow with autograd on; the gradient is taken with
``torch.autograd.grad`` with respect to the picture only (the shadow's parameters need no gradient, so no
``.grad`` is written anywhere) and the layer's output is caught by a forward hook on the *shadow*, which
ends the forward pass there. The user's model is never run, hooked or flagged.

The picture is optimised in raw pixel units, inside the data's range [``low``, ``high``]. With a
``preprocess``, it must compute in torch (called on a float64 tensor it returns a tensor autograd follows,
equal to what it returns for the numpy picture); a numpy-only ``preprocess`` cannot be differentiated and
gives a ``ValueError``. Each step: roll the picture by up to ``jitter`` pixels (random, seeded), one Adam
step on the target's activation (``lr`` is a share of the pixel range: Adam moves each pixel by about
``lr · (high − low)`` a step), decay toward the range's middle ``x ← c + (1 − l2)(x − c)`` (L2 weight decay),
a Gaussian blur of ``blur_sigma`` pixels every ``blur_every`` steps (0: never), then clipping to the range.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import nn

from .feature_maps import LayerShapes, layer_output
from .image_attributions import differentiable_preprocess, require_image
from .layer_table import resolve_layer
from .predictor import model_device, model_dtype, output_matrix, tensor_to_float64
from .sampling import random_rows
from .shadow import check_runnable
from .tasks import Task

if TYPE_CHECKING:
    from .inspector import Inspector

PROBE_ROWS = 256
PROBE_SEED = 0
OUTPUT = ""
CHECK_EVERY = 4  # steps between job.check() calls
RETRIES = 8  # a step whose weights were changed in place mid-step (the user trains) is done again


@dataclass(frozen=True)
class UnitTarget:
    """What can be excited: ``layer`` ("" for the model's output), its module ``type``, ``units`` (channels
    or units), ``kind`` ("channel": the mean of a map; "unit"; "class": an output column)."""

    layer: str
    type: str
    units: int
    kind: str


@dataclass(frozen=True)
class ProbeMeansResult:
    """Each unit's mean activation (the channel's map mean) over ``rows`` real pictures."""

    layer: str
    means: np.ndarray
    rows: int


@dataclass(frozen=True)
class UnitAscentResult:
    """The optimised picture ``image`` (C, H, W) in raw pixel units; ``activations``: the target's value at
    each step (with that step's jitter); ``final``: its value for ``image`` as returned (no jitter);
    ``mean_over_data``: its mean over ``probe_rows`` real pictures; ``target_description`` in words;
    ``ratio`` = final / mean_over_data when that mean is positive (else None); ``seconds`` taken."""

    layer: str
    unit: int
    image: np.ndarray
    activations: np.ndarray
    final: float
    mean_over_data: float
    probe_rows: int
    target_description: str
    seconds: float

    @property
    def ratio(self) -> float | None:
        return self.final / self.mean_over_data if self.mean_over_data > 0 else None


def normal_layer(ins: "Inspector", layer: str) -> str:
    """``"output"`` means the model's output unless a module is called that."""
    if not isinstance(layer, str):
        raise TypeError(f"layer must be a str (a module name, or '' / 'output' for the model's output), got {type(layer).__name__}")
    if layer == "output" and "output" not in dict(ins.model.named_modules()):
        return OUTPUT
    return layer


def unit_targets(ins: "Inspector", version: int | None = None) -> list[UnitTarget]:
    """The model's output (classes) first, then every named module whose output has units or channels
    (one to four axes per picture), in the model's order."""
    v = ins.version if version is None else version
    shapes = ins.compute(LayerShapes(), v)
    modules = dict(ins.model.named_modules())
    columns = ins.output_kind.columns if ins.output_kind is not None else 0
    found = [UnitTarget(OUTPUT, "output", int(columns), "class")] if columns else []
    for name, shape in shapes.items():
        if name in modules and 1 <= len(shape) <= 4 and shape[0] > 0:
            found.append(UnitTarget(name, type(modules[name]).__name__, int(shape[0]), "unit" if len(shape) == 1 else "channel"))
    return found


def find_target(ins: "Inspector", layer: str, unit: int, version: int | None = None) -> UnitTarget:
    """The target ``layer`` (checked: it exists and has units) with ``unit`` in range, or a ``ValueError``."""
    layer = normal_layer(ins, layer)
    if layer != OUTPUT:
        resolve_layer(ins.model, layer)  # unknown names: a ValueError naming close ones
    targets = {t.layer: t for t in unit_targets(ins, version)}
    if layer not in targets:
        what = "the model's output" if layer == OUTPUT else f"layer {layer!r}"
        raise ValueError(f"{what} has no units to excite (its output is not a tensor of units or channels per picture, "
                         f"or it did not run); layers with units: {', '.join(repr(n) for n in targets if n) or 'none'}")
    target = targets[layer]
    if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)):
        raise TypeError(f"unit must be an int, got {type(unit).__name__}")
    if not 0 <= int(unit) < target.units:
        raise ValueError(f"unit must be 0..{target.units - 1} for {describe_layer(target)}; got {unit}")
    return target


def describe_layer(target: UnitTarget) -> str:
    if target.layer == OUTPUT:
        return f"the model's output ({target.units} classes)"
    noun = "channels" if target.kind == "channel" else "units"
    return f"layer {target.layer!r} ({target.type}, {target.units} {noun})"


def describe_target(ins: "Inspector", target: UnitTarget, unit: int) -> str:
    if target.layer == OUTPUT:
        names = ins.class_names or ()
        label = str(names[unit]) if unit < len(names) else ""
        name = f" ({label})" if label and label not in (str(unit), f"class {unit}") else ""
        kind = ins.output_kind.kind if ins.output_kind is not None else "output"
        what = "logit" if kind == "logits" else "output"
        return f"class {unit}{name}: its {what}"
    if target.kind == "channel":
        return f"channel {unit} of {target.layer} ({target.type}): its map's mean"
    return f"unit {unit} of {target.layer} ({target.type})"


def unit_values(out: torch.Tensor, unit: int) -> torch.Tensor:
    """One value per picture: unit ``unit`` of ``out`` (n, units), or channel ``unit``'s mean (n, C, ...)."""
    picked = out[:, unit]
    return picked.reshape(len(out), -1).mean(dim=1) if picked.dim() > 1 else picked


def forward_to(shadow: nn.Module, layer: str, inputs: torch.Tensor) -> torch.Tensor:
    """The output of module ``layer`` of ``shadow`` (first call) for ``inputs``, or the model's output
    (rows × columns) for ``layer`` ""; a hook on the shadow ends the forward at the layer."""
    if layer == OUTPUT:
        return output_matrix(shadow(inputs), len(inputs))
    return layer_output(shadow, layer, inputs)


def probe_means(ins: "Inspector", layer: str, version: int, check=None) -> ProbeMeansResult:
    """Every unit's mean activation of ``layer`` over a seeded probe of up to ``PROBE_ROWS`` real pictures."""
    layer = normal_layer(ins, layer)
    rows = random_rows(ins.data.n_rows, PROBE_ROWS, PROBE_SEED)
    X = ins.data.X[rows]
    if layer == OUTPUT:
        raw = ins.predictor.raw(X, version, check=check)
        return ProbeMeansResult(layer, raw.mean(axis=0), len(rows))
    sums: list[np.ndarray] = []

    def capture(_start: int, seen: dict) -> None:
        if layer in seen:
            out = seen[layer][1]
            flat = out.reshape(out.shape[0], out.shape[1], -1).mean(dim=2) if out.dim() > 2 else out
            sums.append(tensor_to_float64(flat).sum(axis=0))

    ins.predictor.raw(X, version, capture=capture, names=(layer,), check=check)
    if not sums:
        raise ValueError(f"layer {layer!r} did not run in the model's forward pass (or returned no tensor)")
    return ProbeMeansResult(layer, np.sum(sums, axis=0) / len(rows), len(rows))


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """``x`` (1, C, H, W) blurred by a Gaussian of ``sigma`` pixels per channel (edges replicated)."""
    if sigma <= 0:
        return x
    _, c, h, w = x.shape
    radius = max(1, min(int(math.ceil(3 * sigma)), max(h, w) - 1))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    padded = nn.functional.pad(x, (radius, radius, 0, 0), mode="replicate")
    x = nn.functional.conv2d(padded, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    padded = nn.functional.pad(x, (0, 0, radius, radius), mode="replicate")
    return nn.functional.conv2d(padded, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


@dataclass(frozen=True)
class AscentOptions:
    steps: int = 128
    lr: float = 0.05
    l2: float = 1e-3
    blur_every: int = 4
    blur_sigma: float = 0.5
    jitter: int = 1
    seed: int = 0

    def check(self) -> "AscentOptions":
        problems = []
        if not 1 <= int(self.steps) <= 100_000:
            problems.append(f"steps must be 1..100000, got {self.steps}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            problems.append(f"lr must be positive, got {self.lr}")
        if not (math.isfinite(self.l2) and 0 <= self.l2 < 1):
            problems.append(f"l2 must be in [0, 1), got {self.l2}")
        if self.blur_every < 0:
            problems.append(f"blur_every must be 0 (never) or more, got {self.blur_every}")
        if not (math.isfinite(self.blur_sigma) and self.blur_sigma >= 0):
            problems.append(f"blur_sigma must be 0 or more, got {self.blur_sigma}")
        if self.jitter < 0:
            problems.append(f"jitter must be 0 or more pixels, got {self.jitter}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def unit_ascent(ins: "Inspector", layer: str, unit: int, options: AscentOptions = AscentOptions(),
                version: int | None = None, job: Any = None) -> UnitAscentResult:
    """Optimise a picture that excites ``unit`` of ``layer`` (see the module's docstring)."""
    started = time.perf_counter()
    layout = require_image(ins, "UnitVisualizer")
    options.check()
    v = ins.version if version is None else version
    check_runnable(ins.model)
    layer = normal_layer(ins, layer)
    target = find_target(ins, layer, int(unit), v)
    unit = int(unit)
    means = ins.compute(ProbeMeans(layer), v) if job is not None else probe_means(ins, layer, v)

    low, high = float(layout.low), float(layout.high)
    span = high - low if high > low else 1.0
    centre = (low + high) / 2 if high > low else low
    generator = torch.Generator().manual_seed(int(options.seed))
    noise = centre + 0.1 * span * torch.randn((1, *layout.shape), generator=generator, dtype=torch.float64)
    noise = noise.clamp(low, high) if high > low else noise

    to_model = None
    if ins.preprocess is not None:
        to_model = differentiable_preprocess(ins, noise.numpy())
        if to_model is None:
            raise ValueError("UnitVisualizer optimises the picture in raw pixel units through preprocess, so preprocess "
                             "must compute in torch: called on a float64 tensor it should return a tensor autograd can "
                             "follow (equal to its result for the numpy picture)")
        dtype, device = torch.float64, torch.device("cpu")
    else:
        dtype, device = model_dtype(ins.model), model_device(ins.model)
        dtype = torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype
    model_type = model_dtype(ins.model)
    x = noise.to(dtype=dtype, device=device).requires_grad_(True)  # our own tensor, optimised by our own Adam
    optimizer = torch.optim.Adam([x], lr=options.lr * span)
    steps = int(options.steps)
    activations = np.zeros(steps)

    def activation(shadow: nn.Module, picture: torch.Tensor) -> torch.Tensor:
        inputs = to_model(picture) if to_model is not None else picture.to(model_type)
        return unit_values(forward_to(shadow, layer, inputs), unit)[0]

    with torch.inference_mode(False), ins.predictor.shadows.use(v, grad=True) as shadow:
        for step in range(steps):
            if job is not None and step % CHECK_EVERY == 0:
                job.check()
            dy, dx = (torch.randint(-options.jitter, options.jitter + 1, (2,), generator=generator).tolist()
                      if options.jitter > 0 else (0, 0))
            for attempt in range(RETRIES):
                try:
                    value = activation(shadow, torch.roll(x, (dy, dx), (2, 3)) if dy or dx else x)
                    (grad,) = torch.autograd.grad(value, x)
                    break
                except RuntimeError as error:  # the user's optimizer stepped between forward and backward
                    if "inplace" not in str(error) or attempt == RETRIES - 1:
                        raise
            activations[step] = float(value.detach())
            x.grad = -grad  # Adam minimises: ascend the activation
            optimizer.step()
            with torch.no_grad():
                if options.l2 > 0:
                    x.sub_(centre).mul_(1 - options.l2).add_(centre)
                if options.blur_every and (step + 1) % options.blur_every == 0 and options.blur_sigma > 0:
                    x.copy_(gaussian_blur(x, options.blur_sigma))
                if high > low:
                    x.clamp_(low, high)
            if job is not None:
                job.progress((step + 1) / steps, f"gradient ascent: step {step + 1} of {steps}")
        with torch.no_grad():
            final = float(activation(shadow, x.detach()))
    x.grad = None
    image = tensor_to_float64(x)[0]
    return UnitAscentResult(layer, unit, image, activations, final, float(means.means[unit]), means.rows,
                            describe_target(ins, target, unit), time.perf_counter() - started)


@dataclass(frozen=True)
class ProbeMeans(Task):
    """Each unit's mean activation of ``layer`` over up to 256 real pictures (seeded), once per model version."""

    layer: str
    lane: ClassVar[str] = "slow"
    priority: ClassVar[int] = 1
    keep: ClassVar[int] = 8

    def run(self, ins, version, job) -> ProbeMeansResult:
        return probe_means(ins, self.layer, version, job.check)

    def describe(self, ins):
        return f"mean activations of {self.layer or 'the output'} over real pictures"


@dataclass(frozen=True)
class UnitAscent(Task):
    """A picture that excites ``unit`` of ``layer`` by gradient ascent (see the module's docstring).

    >>> import numpy as np, torch, nnwidgets as nw
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(144, 3))
    >>> s = nw.Inspector(net, np.random.default_rng(0).random((20, 8, 8)))
    >>> r = s.compute(UnitAscent("0", 2, AscentOptions(steps=32, l2=0.0, blur_every=0, jitter=0)))
    >>> r.image.shape, len(r.activations), bool(r.final > r.activations[0])
    ((1, 8, 8), 32, True)
    """

    layer: str
    unit: int
    options: AscentOptions = AscentOptions()
    lane: ClassVar[str] = "slow"
    priority: ClassVar[int] = 1
    settle: ClassVar[float] = 0.05
    keep: ClassVar[int] = 16

    def run(self, ins, version, job) -> UnitAscentResult:
        return unit_ascent(ins, self.layer, self.unit, self.options, version, job)

    def describe(self, ins):
        return f"gradient ascent on {'class' if not self.layer or self.layer == 'output' else self.layer} {self.unit}"
