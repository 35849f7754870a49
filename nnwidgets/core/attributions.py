"""Gradient attributions for one row: saliency, gradient × input and integrated gradients, all from
one batched forward and backward pass (the row, the baseline and the integration path together).

Integrated gradients use Gauss–Legendre quadrature, Captum's default, so the numbers equal
``captum.attr.IntegratedGradients`` called directly (the tests check that)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

METHODS = ("saliency", "gradient × input", "integrated gradients")
BASELINES = ("mean", "median", "min", "zeros")
OUTPUTS = ("logit", "probability")


@dataclass(frozen=True)
class Attributions:
    """One value per feature and method (``values[m, j]``), for class ``target``.

    Saliency is the signed gradient; ``delta`` is integrated gradients' convergence error (sum of
    attributions minus the output difference to the baseline); ``output`` names what was attributed."""

    values: np.ndarray
    target: int
    delta: float
    output: str


MEDIAN_ROWS = 100_000


def baseline_row(X: np.ndarray, baseline: str | np.ndarray) -> np.ndarray:
    """The reference input for integrated gradients, in raw feature units. The median is taken over at
    most 100,000 rows (a seeded sample of bigger data): ``np.median`` copies what it sorts."""
    if not isinstance(baseline, str):
        row = np.asarray(baseline, dtype=np.float64)
        if row.shape != (X.shape[1],):
            raise ValueError(f"a custom baseline needs {X.shape[1]} values (one per feature), got shape {row.shape}")
        return row
    sample = lambda: X if len(X) <= MEDIAN_ROWS else X[np.sort(np.random.default_rng(0).choice(len(X), MEDIAN_ROWS, replace=False))]  # noqa: E731
    choices = {"mean": lambda: X.mean(0, dtype=np.float64), "median": lambda: np.median(sample(), 0).astype(np.float64),
               "min": lambda: X.min(0).astype(np.float64), "zeros": lambda: np.zeros(X.shape[1])}
    if baseline not in choices:
        raise ValueError(f"baseline must be one of {BASELINES} or an array of feature values, got {baseline!r}")
    return choices[baseline]()


def output_name(kind: str, output: str, columns: int) -> str:
    """What is attributed, in words: a model that outputs several probabilities has log-probabilities,
    not logits (one sigmoid probability p still has its logit, log(p / (1 − p)))."""
    if kind == "regression":
        return "output"
    if output == "logit" and kind == "probabilities" and columns > 1:
        return "log-probability"
    return output


def attributed(out: torch.Tensor, kind: str, output: str, target: int) -> torch.Tensor:
    """The scalar per row whose gradient is taken: class ``target``'s logit or probability (or, for a
    model that outputs probabilities, its log-probability), or the regression output. With a single
    output column (class 1's logit z), class 0's logit is its log-odds −z."""
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
    if kind == "regression":
        return out[:, 0]
    if out.shape[1] == 1:  # one column: the logit z (or probability p) of class 1
        z = out[:, 0] if kind == "logits" else torch.logit(out[:, 0].clamp(1e-6, 1 - 1e-6))
        if output == "probability":
            p = torch.sigmoid(z)
            return p if target == 1 else 1 - p
        return z if target == 1 else -z
    if kind == "probabilities":
        p = out[:, target]
        return p if output == "probability" else torch.log(p.clamp_min(1e-12))
    return torch.softmax(out, dim=1)[:, target] if output == "probability" else out[:, target]


def path(x: torch.Tensor, x0: torch.Tensor, steps: int) -> tuple[torch.Tensor, np.ndarray]:
    """The integration points between baseline ``x0`` and ``x`` (1 × d each) and their weights."""
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    alphas = torch.as_tensor(0.5 * (1 + nodes), dtype=x.dtype, device=x.device)
    return x0 + alphas[:, None] * (x - x0), 0.5 * weights


def combine(x: np.ndarray, x0: np.ndarray, grads: np.ndarray, weights: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, float]:
    """The three methods from gradients at ``[x, x0, path…]`` and outputs ``f`` there."""
    saliency = grads[0]
    ig = (x - x0) * (weights[:, None] * grads[2:]).sum(axis=0)
    delta = float(ig.sum() - (f[0] - f[1]))
    return np.stack([saliency, saliency * x, ig]), abs(delta)
