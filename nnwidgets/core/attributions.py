"""Gradient attributions for one row (Captum): saliency, gradient × input, integrated gradients."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from captum.attr import InputXGradient, IntegratedGradients, Saliency
from torch import nn

from .model_access import model_access
from .tabular import Tabular, model_dtype

METHODS = ("saliency", "gradient × input", "integrated gradients")
BASELINES = ("mean", "median", "min", "zeros")
OUTPUTS = ("logit", "probability")


@dataclass(frozen=True)
class Attributions:
    """One value per feature and method (``values[m, j]``), for the class ``target``.

    Saliency is the signed gradient; integrated gradients' ``delta`` is Captum's convergence
    error (sum of attributions minus the output difference to the baseline)."""

    values: np.ndarray
    target: int
    delta: float


def baseline_row(X: np.ndarray, baseline: str | np.ndarray) -> np.ndarray:
    """The reference input for integrated gradients, in raw feature units."""
    if not isinstance(baseline, str):
        row = np.asarray(baseline, dtype=np.float64)
        if row.shape != (X.shape[1],):
            raise ValueError(f"a custom baseline needs {X.shape[1]} values (one per feature), got shape {row.shape}")
        return row
    choices = {"mean": lambda: X.mean(0), "median": lambda: np.median(X, 0), "min": lambda: X.min(0),
               "zeros": lambda: np.zeros(X.shape[1])}
    if baseline not in choices:
        raise ValueError(f"baseline must be one of {BASELINES} or an array of feature values, got {baseline!r}")
    return choices[baseline]()


def attribute(
    model: nn.Module,
    data: Tabular,
    row_values: np.ndarray,
    target: int = 0,
    *,
    baseline: str | np.ndarray = "mean",
    output: str = "logit",
    steps: int = 50,
    preprocess: Callable[[np.ndarray], object] | None = None,
) -> Attributions:
    """Attribute the model's output for class ``target`` at ``row_values`` to each feature.

    Gradients are taken with respect to the model's inputs (after ``preprocess``), which must keep
    one column per feature. ``output`` picks the class's logit (the raw output) or its softmax
    probability; regression uses the single output.

    >>> import torch, numpy as np
    >>> from nnwidgets.core.tabular import prepare_tabular
    >>> net = torch.nn.Linear(2, 1)
    >>> data, _ = prepare_tabular(net, np.zeros((3, 2)))
    >>> a = attribute(net, data, np.array([1.0, 2.0]), baseline="zeros")
    >>> np.allclose(a.values[2], net.weight.detach().numpy()[0] * [1, 2])
    True
    """
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
    convert = (lambda v: np.asarray(preprocess(v), dtype=np.float64)) if preprocess else (lambda v: v)
    inputs = convert(np.asarray(row_values, dtype=np.float64)[None, :])
    reference = convert(baseline_row(data.X, baseline)[None, :])
    if inputs.shape != (1, data.n_features):
        raise ValueError(f"attributions need preprocess to keep one column per feature; it gave shape {inputs.shape}")
    dtype = model_dtype(model)
    x = torch.tensor(inputs, dtype=dtype)
    x0 = torch.tensor(reference, dtype=dtype)
    regression = data.mode == "regression"

    def forward(batch: torch.Tensor) -> torch.Tensor:
        out = model(batch)
        if out.dim() == 1:
            out = out[:, None]
        if not regression and out.shape[1] == 1:  # one logit z: the classes' logits are (0, z)
            out = torch.cat([torch.zeros_like(out), out], dim=1)
        return torch.softmax(out, dim=1) if output == "probability" and not regression else out

    label = 0 if regression else target
    with model_access(model, grad=True), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Input Tensor 0 did not already require gradients")
        saliency = Saliency(forward).attribute(x, target=label, abs=False)
        grad_input = InputXGradient(forward).attribute(x.clone(), target=label)
        ig, delta = IntegratedGradients(forward).attribute(
            x.clone(), baselines=x0, target=label, n_steps=steps, return_convergence_delta=True
        )
    values = torch.cat([saliency, grad_input, ig]).detach().double().numpy()
    return Attributions(values, label, float(delta.abs().max()))
