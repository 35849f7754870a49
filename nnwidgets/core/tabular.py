"""Tabular inputs for explanations: checked data, names, mode, and a batched prediction function."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .model_access import ensure_module, model_access

MODES = ("classification", "regression")


@dataclass(frozen=True)
class Tabular:
    """Checked inputs: ``X`` as float64 (rows × features), names, and what the model predicts."""

    X: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    mode: str

    @property
    def n_features(self) -> int:
        return self.X.shape[1]


def as_matrix(X: object) -> tuple[np.ndarray, list[str] | None]:
    """``X`` (array, tensor or DataFrame) as a finite float64 matrix, plus DataFrame column names."""
    columns = None
    if hasattr(X, "columns") and hasattr(X, "to_numpy"):
        columns = [str(c) for c in X.columns]
        non_numeric = [c for c, dt in zip(columns, X.dtypes) if getattr(dt, "kind", "O") not in "biuf"]
        if non_numeric:
            raise ValueError(f"X has non-numeric columns {non_numeric}: encode them as numbers first")
        X = X.to_numpy()
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    try:
        array = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"X must be numeric (rows × features); could not convert it: {error}") from None
    if array.ndim != 2:
        raise ValueError(f"X must be 2-D (rows × features), got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"X is empty (shape {array.shape}); it needs at least one row and one feature")
    if not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        raise ValueError(f"X contains NaN or inf (first at row {bad[0]}, column {bad[1]}); impute or drop it first")
    return array, columns


def _names(given: Sequence[str] | None, count: int, what: str, default: Callable[[int], str]) -> tuple[str, ...]:
    if given is None:
        return tuple(default(i) for i in range(count))
    names = tuple(str(n) for n in given)
    if len(names) != count:
        raise ValueError(f"{what} has {len(names)} names but the {'data has' if what == 'feature_names' else 'model gives'} {count}")
    return names


def model_dtype(model: nn.Module) -> torch.dtype:
    """The floating dtype of the model's first parameter (float32 for models without one)."""
    parameter = next(model.parameters(), None)
    return parameter.dtype if parameter is not None and parameter.is_floating_point() else torch.float32


def forward(model: nn.Module, values: np.ndarray, preprocess: Callable[[np.ndarray], object] | None) -> object:
    """The model's raw output for rows of feature values, in one batch, inside :func:`model_access`
    (a tensor is detached; anything else a model returns is passed on as it is)."""
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    batch = np.asarray(preprocess(values) if preprocess is not None else values)
    with model_access(model):
        out = model(torch.as_tensor(batch, dtype=model_dtype(model), device=device))
    return out.detach() if isinstance(out, torch.Tensor) else out


def make_predict(
    model: nn.Module,
    mode: str,
    preprocess: Callable[[np.ndarray], object] | None = None,
) -> Callable[[np.ndarray], np.ndarray]:
    """A numpy → numpy prediction: class probabilities (n × k) or regression outputs (n,).

    One forward pass per call, inside :func:`model_access`. Classification outputs are treated as
    logits (softmax; a single logit becomes two classes through a sigmoid) unless every row of the
    first call's output is already a probability distribution (then the model ends in a softmax,
    and that is decided once rather than re-checked on every call).
    """
    ensure_module(model)
    outputs_probabilities: list[bool] = []

    def predict(values: np.ndarray) -> np.ndarray:
        out = forward(model, values, preprocess).float().cpu().numpy().astype(np.float64)
        if out.ndim == 1:
            out = out[:, None]
        if not np.isfinite(out).all():
            raise ValueError("the model returned NaN or inf for these inputs")
        if mode == "regression":
            if out.shape[1] != 1:
                raise ValueError(f"mode='regression' needs one output per row; the model gives {out.shape[1]}")
            return out[:, 0]
        if not outputs_probabilities:
            outputs_probabilities.append(out.shape[1] > 1 and is_probability(out))
        return out if outputs_probabilities[0] else to_probabilities(out)

    return predict


def is_probability(out: np.ndarray) -> bool:
    """Every row non-negative and summing to 1: the output of a softmax."""
    return bool((out >= 0).all() and np.allclose(out.sum(axis=1), 1.0, atol=1e-5))


def to_probabilities(out: np.ndarray) -> np.ndarray:
    if out.shape[1] == 1:
        p = 1.0 / (1.0 + np.exp(-out[:, 0]))
        return np.stack([1.0 - p, p], axis=1)
    if is_probability(out):
        return out
    shifted = out - out.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def prepare_tabular(
    model: nn.Module,
    X: object,
    *,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    mode: str | None = None,
    preprocess: Callable[[np.ndarray], object] | None = None,
) -> tuple[Tabular, Callable[[np.ndarray], np.ndarray]]:
    """Check everything an explanation widget is given; infer ``mode`` from the output shape.

    >>> import torch, numpy as np
    >>> data, predict = prepare_tabular(torch.nn.Linear(3, 2), np.zeros((5, 3)))
    >>> data.mode, data.class_names, predict(data.X[:1]).shape
    ('classification', ('class 0', 'class 1'), (1, 2))
    """
    ensure_module(model)
    matrix, columns = as_matrix(X)
    if mode is not None and mode not in MODES:
        raise ValueError(f"mode must be 'classification' or 'regression', got {mode!r}")
    try:
        raw = forward(model, matrix[:2], preprocess)
    except Exception as error:
        raise ValueError(
            f"the model could not take X's rows (shape {matrix.shape}): {error}. "
            "Check the number of columns, or pass preprocess= to turn raw features into model inputs"
        ) from None
    if not isinstance(raw, torch.Tensor):
        raise ValueError(f"the model must return one tensor of outputs per row to be explained; it returned {type(raw).__name__}")
    outputs = 1 if raw.dim() == 1 else raw.shape[-1]
    mode = mode or ("regression" if outputs == 1 and class_names is None else "classification")
    if mode == "regression" and outputs != 1:
        raise ValueError(f"mode='regression' needs one output per row; the model gives {outputs}")
    n_classes = 0 if mode == "regression" else max(outputs, 2)
    data = Tabular(
        X=matrix,
        feature_names=_names(feature_names if feature_names is not None else columns, matrix.shape[1], "feature_names", lambda i: f"x{i}"),
        class_names=_names(class_names, n_classes, "class_names", lambda i: f"class {i}"),
        mode=mode,
    )
    return data, make_predict(model, mode, preprocess)
