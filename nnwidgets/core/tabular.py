"""Tabular inputs for explanations: the checked data matrix, feature and class names, labels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from .images import ImageLayout

MODES = ("classification", "regression")


CHECK_CHUNK = 65_536
INTEGER_SAMPLE = 10_000


@dataclass(frozen=True)
class Tabular:
    """Checked inputs: ``X`` (rows × features) in its own float dtype — float32 or float64, never copied
    again — its names, and the mode."""

    X: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    mode: str
    image: "ImageLayout | None" = None  # pictures: X holds each flat, in (C, H, W) order

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    @property
    def n_rows(self) -> int:
        return self.X.shape[0]


def as_matrix(X: object) -> tuple[np.ndarray, list[str] | None]:
    """``X`` (array, tensor or DataFrame) as a finite float matrix, plus DataFrame column names.
    float32 and float64 data is used as it is (no copy); other numbers become float64.

    >>> as_matrix([[1, 2], [3, 4]])[0].dtype, as_matrix(np.zeros((2, 2), np.float32))[0].dtype
    (dtype('float64'), dtype('float32'))
    """
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
        array = np.asarray(X)
        if array.dtype not in (np.float32, np.float64):
            array = array.astype(np.float32 if array.dtype == np.float16 else np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"X must be numeric (rows × features); could not convert it: {error}") from None
    if array.ndim != 2:
        raise ValueError(f"X must be 2-D (rows × features), got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"X is empty (shape {array.shape}); it needs at least one row and one feature")
    for start in range(0, len(array), CHECK_CHUNK):  # in chunks: no rows × features temporary
        finite = np.isfinite(array[start:start + CHECK_CHUNK])
        if not finite.all():
            bad = np.argwhere(~finite)[0]
            raise ValueError(f"X contains NaN or inf (first at row {start + bad[0]}, column {bad[1]}); impute or drop it first")
    return array, columns


def feature_ranges(X: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each feature's exact minimum and maximum, and a slider step: 1 for columns that are whole
    numbers spanning at least 10 (judged on up to 10,000 sampled rows), else about a hundredth of the range.

    >>> lo, hi, step = feature_ranges(np.array([[0.0, 0.5], [20.0, 1.5]]))
    >>> lo.tolist(), hi.tolist(), step.tolist()
    ([0.0, 0.5], [20.0, 1.5], [1.0, 0.01])
    """
    lo, hi = X.min(axis=0).astype(np.float64), X.max(axis=0).astype(np.float64)
    rows = X if len(X) <= INTEGER_SAMPLE else X[np.sort(np.random.default_rng(seed).choice(len(X), INTEGER_SAMPLE, replace=False))]
    integer = np.all(rows == np.round(rows), axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    fine = np.array([float(f"{v:.2g}") for v in span / 100])
    return lo, hi, np.where(integer & (span >= 10), 1.0, fine)


def names(given: Sequence[str] | None, count: int, what: str, default: Callable[[int], str]) -> tuple[str, ...]:
    """``given`` as strings (checked to be ``count`` of them), or the defaults."""
    if given is None:
        return tuple(default(i) for i in range(count))
    if isinstance(given, str):
        raise TypeError(f"{what} must be a sequence of names, got the single string {given!r}")
    found = tuple(str(n) for n in given)
    if len(found) != count:
        source = "the data has" if what == "feature_names" else "the model gives"
        raise ValueError(f"{what} has {len(found)} names but {source} {count}")
    return found


def as_labels(y: object, rows: int) -> np.ndarray:
    """Labels or targets ``y`` as a 1-D array with one entry per row of X."""
    if isinstance(y, torch.Tensor):
        y = y.detach().cpu().numpy()
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise ValueError(f"y must be 1-D (one label per row of X), got shape {labels.shape}")
    if len(labels) != rows:
        raise ValueError(f"y has {len(labels)} labels but X has {rows} rows")
    return labels
