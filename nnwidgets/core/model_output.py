"""What a model's output means — logits, probabilities or a regression value — decided once, explicitly,
and the one conversion from raw outputs to class probabilities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

OUTPUTS = ("auto", "logits", "probabilities")
KINDS = ("logits", "probabilities", "regression")


@dataclass(frozen=True)
class OutputKind:
    """``kind``: "logits", "probabilities" or "regression"; ``columns``: raw outputs per row;
    ``reason``: how it was decided, in words a user can check."""

    kind: str
    columns: int
    reason: str

    @property
    def classes(self) -> int:
        """Number of classes (a single logit or probability column stands for two)."""
        return 0 if self.kind == "regression" else max(self.columns, 2)


def tolerance(dtype: torch.dtype) -> float:
    """How far from 1 a row of probabilities may sum after rounding in ``dtype``.

    >>> tolerance(torch.float32) < tolerance(torch.float16) < tolerance(torch.bfloat16)
    True
    """
    eps = torch.finfo(dtype).eps if dtype.is_floating_point else torch.finfo(torch.float32).eps
    return max(1e-5, 16 * eps)


def decide_output(raw: np.ndarray, dtype: torch.dtype, mode: str, output: str, last: torch.nn.Module | None = None) -> OutputKind:
    """Decide what ``raw`` (rows × columns, the model's own outputs in ``dtype``) is.

    ``output="auto"``: several columns that are non-negative and sum to 1 on every row (within the
    dtype's rounding) are probabilities, otherwise logits; one column is a probability if the model's
    last layer (``last``) is ``nn.Sigmoid`` or every value lies within [0, 1], otherwise a logit. An
    explicit ``output`` is checked against the values. ``mode="regression"`` needs one column.

    >>> decide_output(np.array([[0.2, 0.8], [0.5, 0.5]]), torch.float32, "classification", "auto").kind
    'probabilities'
    >>> decide_output(np.array([[2.0, -1.0]]), torch.float32, "classification", "auto").kind
    'logits'
    """
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
    rows, columns = raw.shape
    if mode == "regression":
        if columns != 1:
            raise ValueError(f"mode='regression' needs one output per row; the model gives {columns}")
        if output != "auto":
            raise ValueError(f"output={output!r} is for classifiers; a regression model's output is its prediction")
        return OutputKind("regression", 1, "mode is regression: the one output is the prediction")
    tol = tolerance(dtype)
    dtype_name = str(dtype).removeprefix("torch.")
    inside = bool(((raw >= 0) & (raw <= 1)).all())
    sums_to_one = bool((raw >= 0).all()) and bool(np.all(np.abs(raw.sum(axis=1) - 1) <= tol))
    if output == "probabilities":
        if (columns == 1 and not inside) or (columns > 1 and not sums_to_one):
            worst = np.abs(raw.sum(axis=1) - 1).max() if columns > 1 else np.abs(raw - np.clip(raw, 0, 1)).max()
            raise ValueError(f"output='probabilities' was given, but the model's outputs on rows of X are not probabilities "
                             f"({'outside [0, 1]' if columns == 1 else 'rows do not sum to 1'}, off by up to {worst:.3g}): "
                             "pass output='logits' or 'auto'")
        return OutputKind(output, columns, "output='probabilities' was given (checked on the rows of X)")
    if output != "auto":
        return OutputKind(output, columns, f"output={output!r} was given")
    if columns == 1:
        if isinstance(last, torch.nn.Sigmoid):
            return OutputKind("probabilities", 1, "the model ends in nn.Sigmoid: a probability")
        if inside:
            return OutputKind("probabilities", 1, f"the one output lies in [0, 1] on all {rows} rows checked: taken as a "
                                                  "sigmoid probability (pass output='logits' if it is a logit)")
        return OutputKind("logits", 1, f"the one output leaves [0, 1] on some of {rows} rows checked: a logit")
    if sums_to_one:
        return OutputKind("probabilities", columns, f"every one of {rows} rows checked is non-negative and sums to 1 (±{tol:.1g} for {dtype_name}): probabilities")
    return OutputKind("logits", columns, f"rows checked do not all sum to 1 (±{tol:.1g} for {dtype_name}): logits")


def to_probabilities(raw: np.ndarray, kind: str) -> np.ndarray:
    """Class probabilities (rows × classes) from raw outputs of the given kind; a single column is the
    probability or logit of class 1.

    >>> to_probabilities(np.array([[0.0]]), "logits").tolist()
    [[0.5, 0.5]]
    >>> to_probabilities(np.array([[0.25]]), "probabilities").tolist()
    [[0.75, 0.25]]
    """
    if kind == "probabilities":
        if raw.shape[1] == 1:
            return np.concatenate([1.0 - raw, raw], axis=1)
        return raw
    if kind != "logits":
        raise ValueError(f"{kind!r} outputs have no class probabilities")
    if raw.shape[1] == 1:
        p = 1.0 / (1.0 + np.exp(-raw[:, 0]))
        return np.stack([1.0 - p, p], axis=1)
    shifted = raw - raw.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def log_odds(p: np.ndarray) -> np.ndarray:
    """log(p / (1 − p)), with p kept inside [1e-6, 1 − 1e-6]."""
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))
