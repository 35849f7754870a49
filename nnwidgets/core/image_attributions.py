"""Attributions of one picture for one class, by Captum run on the inspector's read-only shadow.

Methods: ``"saliency"`` (Captum's Saliency, |gradient| as Captum's default ``abs=True``),
``"gradient_x_input"`` (InputXGradient), ``"integrated_gradients"`` (IntegratedGradients, Gauss–Legendre
as Captum's default, with Captum's signed convergence delta) and ``"occlusion"`` (Occlusion: a square
window slid over the picture across all channels).

What is attributed is class ``target``'s logit — a model that outputs several probabilities has its
log-probability attributed instead, a regression model its output — as the tabular attributions do with
``output="logit"`` (``core/attributions.attributed``); the result's ``output`` says which.

The reference picture (integrated gradients' baseline, what occlusion paints in) is *black*: every pixel
at the data's lowest value ``ImageLayout.low``, in raw pixel units. When the inspector has a
``preprocess``, Captum runs on ``f(raw) = model(preprocess(raw))``, so attributions are per raw pixel;
that needs ``preprocess`` to compute in torch (called on a float64 tensor, it returns a tensor autograd can
follow, equal to what it returns for the numpy picture). A ``preprocess`` that cannot (numpy only) is
applied first and the model's inputs are attributed instead; the result's ``space`` says which.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from captum.attr import InputXGradient, IntegratedGradients, Occlusion, Saliency

from .attributions import attributed, output_name
from .predictor import model_device, model_dtype, output_matrix, tensor_to_float64
from .shadow import check_runnable

if TYPE_CHECKING:
    from .images import ImageLayout
    from .inspector import Inspector

METHODS = ("saliency", "gradient_x_input", "integrated_gradients", "occlusion")
GRADIENT_METHODS = METHODS[:3]
DEFAULT_STEPS = 32
RAW_PIXELS = "raw pixels"
MODEL_INPUTS = "model inputs (preprocess does not compute in torch, so it cannot be differentiated)"
VALUES_PER_CHUNK = 2_500_000  # pixel values per forward pass: 16 pictures of 224 × 224 × 3


@dataclass(frozen=True)
class ImageAttributions:
    """One picture's attributions for class ``target`` by ``method``.

    ``raw``: per pixel value (C, H, W) float64; ``map``: summed over channels (H, W), signed (saliency is
    |gradient|, so never negative); ``output``: what was attributed ("logit", "log-probability" or
    "output"); ``delta``: integrated gradients' convergence delta (sum of attributions minus the output's
    change from the black picture; None for other methods); ``space``: "raw pixels", or the model's inputs
    when ``preprocess`` could not be differentiated; ``settings``: steps, or window and stride, in words.

    >>> import numpy as np, torch, nnwidgets as nw
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.Linear(72, 3))
    >>> s = nw.Inspector(net, np.random.default_rng(0).random((4, 8, 8)))
    >>> a = image_attributions(s, s.values, target=1, method="integrated_gradients")
    >>> a.raw.shape, a.map.shape, a.output, abs(a.delta) < 1e-3
    ((1, 8, 8), (8, 8), 'logit', True)
    """

    raw: np.ndarray
    map: np.ndarray
    method: str
    target: int
    output: str
    delta: float | None
    seconds: float
    space: str = RAW_PIXELS
    settings: str = ""


def check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    return method


def require_image(ins: "Inspector", what: str) -> "ImageLayout":
    """The inspector's image layout, or a ``TypeError`` saying ``what`` needs pictures."""
    if getattr(ins, "image", None) is None:
        raise TypeError(f"{what} needs image data: build the inspector as Inspector(model, images) "
                        "with images shaped (n, C, H, W), (n, H, W) or (n, H, W, C)")
    return ins.image


def check_target(ins: "Inspector", target: int) -> int:
    classes = ins.output_kind.classes if ins.output_kind is not None else 0
    if classes and not 0 <= int(target) < classes:
        raise ValueError(f"target must be a class index 0..{classes - 1}; got {target}")
    return int(target)


def default_window(h: int, w: int) -> int:
    """Occlusion's window side: an eighth of the shorter side, at least 2 (and at most the side)."""
    return max(2, min(h, w) // 8) if min(h, w) >= 2 else 1


def chunk_size(values_per_picture: int, most: int) -> int:
    """Pictures per forward pass: about ``VALUES_PER_CHUNK`` values, at least 1, at most ``most``."""
    return int(max(1, min(most, VALUES_PER_CHUNK // max(1, values_per_picture))))


def differentiable_preprocess(ins: "Inspector", picture: np.ndarray) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """``raw tensor → model inputs`` through ``preprocess`` if it computes in torch (a tensor autograd
    follows, equal to what the numpy path gives); None if it does not."""
    predictor = ins.predictor
    dtype, device = model_dtype(ins.model), model_device(ins.model)
    probe = torch.from_numpy(picture.copy()).requires_grad_(True)
    try:
        out = predictor.preprocess(probe)
    except Exception:  # noqa: BLE001 - a numpy-only preprocess fails in many ways on a tensor that needs grad
        return None
    if not isinstance(out, torch.Tensor) or out.grad_fn is None:
        return None
    expected = predictor.inputs(picture)
    got = out.detach().to(dtype=dtype, device=device)
    if got.shape != expected.shape or not torch.allclose(got, expected, rtol=1e-5, atol=1e-6, equal_nan=True):
        return None
    return lambda raw: predictor.preprocess(raw).to(dtype=dtype).to(device)


def image_attributions(ins: "Inspector", values: object, target: int, method: str, version: int | None = None, *,
                       steps: int = DEFAULT_STEPS, window: int = 0, stride: int = 0) -> ImageAttributions:
    """Attribute class ``target``'s logit (see the module's docstring) at the picture ``values`` (flat,
    (C, H, W), or any shape ``ImageLayout.as_image`` takes) by ``method``, through the inspector's shadow
    of model ``version`` (the current one when None). ``steps``: integrated gradients' points;
    ``window``/``stride``: occlusion's square window and step in pixels (0: ``default_window`` and half
    of it). Captum's own numbers: the tests compare with Captum called on the model itself."""
    started = time.perf_counter()
    layout = require_image(ins, "image attributions")
    check_method(method)
    target = check_target(ins, target)
    if method == "integrated_gradients" and int(steps) < 1:
        raise ValueError(f"steps must be at least 1; got {steps}")
    version = ins.version if version is None else version
    picture = layout.as_image(values)[None].copy()  # never the inspector's working copy itself
    black = np.full_like(picture, layout.low)
    check_runnable(ins.model)

    to_model = differentiable_preprocess(ins, picture) if ins.preprocess is not None else None
    if to_model is not None:
        x, x0, space = torch.from_numpy(picture), torch.from_numpy(black), RAW_PIXELS
    else:
        x, x0 = ins.predictor.inputs(picture), ins.predictor.inputs(black)
        space = RAW_PIXELS if ins.preprocess is None else MODEL_INPUTS
        if x.dim() != 4:
            raise ValueError(f"image attributions need model inputs shaped (1, C, H, W); preprocess gave {tuple(x.shape)}")
    kind, columns = ins.output_kind.kind, ins.output_kind.columns
    per_picture = int(np.prod(x.shape[1:]))

    with torch.inference_mode(False), ins.predictor.shadows.use(version, grad=method in GRADIENT_METHODS) as shadow:
        def forward(batch: torch.Tensor) -> torch.Tensor:
            inputs = to_model(batch) if to_model is not None else batch
            return attributed(output_matrix(shadow(inputs), len(batch)), kind, "logit", target)

        delta, settings = None, ""
        if method in ("saliency", "gradient_x_input"):
            x = x.detach().clone().requires_grad_(True)  # our own tensor: Captum would warn and set it
        if method == "saliency":
            result = Saliency(forward).attribute(x, abs=True)
        elif method == "gradient_x_input":
            result = InputXGradient(forward).attribute(x)
        elif method == "integrated_gradients":
            steps = int(steps)
            result, deltas = IntegratedGradients(forward).attribute(
                x, baselines=x0, n_steps=steps, internal_batch_size=chunk_size(per_picture, steps),
                return_convergence_delta=True)
            delta, settings = float(deltas.reshape(-1)[0]), f"{steps} steps"
        else:
            _, c, h, w = x.shape
            side = int(window) or default_window(h, w)
            side = max(1, min(side, h, w))
            step = int(stride) or max(1, side // 2)
            result = Occlusion(forward).attribute(x, sliding_window_shapes=(c, side, side), strides=(c, step, step),
                                                  baselines=x0, perturbations_per_eval=chunk_size(per_picture, 64))
            settings = f"window {side}×{side}, stride {step}"
    raw = tensor_to_float64(result)[0]
    return ImageAttributions(raw, raw.sum(axis=0), method, target, output_name(kind, "logit", columns), delta,
                             time.perf_counter() - started, space, settings)
