"""The image gallery's rows: which images a filter keeps (true class, predicted class), in which order
("misclassified first": the most confidently wrong first), one page at a time; the model's predictions
for them computed on the slow lane, in chunks, with progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .tasks import Task

ALL = -1  # a filter that keeps every class


@dataclass(frozen=True)
class Predicted:
    """The model's predicted class and its probability for each of ``rows``."""

    rows: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray


def predict_rows(ins, rows: np.ndarray, version: int, job) -> Predicted:
    """The predicted class of each of ``rows`` of X, through the shadow in the predictor's chunks."""
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0 or ins.mode != "classification":
        return Predicted(rows, np.full(len(rows), ALL, np.int32), np.zeros(len(rows), np.float32))
    text = f"predicting {len(rows):,} images"
    job.progress(0.0, text)
    raw = ins.predictor.raw(ins.data.X[rows], version, check=job.check,
                            progress=lambda fraction: job.progress(fraction, text))
    probabilities = ins.convert(raw)
    return Predicted(rows, probabilities.argmax(axis=1).astype(np.int32), probabilities.max(axis=1).astype(np.float32))


@dataclass(frozen=True)
class ClassPredictions(Task):
    """Predictions for every image of one true class (``true_class``; ``ALL``: every image), for
    filtering by predicted class and ordering misclassified images first."""

    true_class: int
    lane: ClassVar[str] = "slow"
    priority: ClassVar[int] = 1
    keep: ClassVar[int] = 4

    def run(self, ins, version, job) -> Predicted:
        return predict_rows(ins, candidates(ins.labels, ins.data.n_rows, self.true_class), version, job)

    def describe(self, ins):
        n = len(candidates(ins.labels, ins.data.n_rows, self.true_class))
        return f"predicting {n:,} images"


@dataclass(frozen=True)
class PagePredictions(Task):
    """Predictions for the images of one gallery page."""

    rows: tuple[int, ...]
    lane: ClassVar[str] = "slow"
    priority: ClassVar[int] = 0
    keep: ClassVar[int] = 16

    def run(self, ins, version, job) -> Predicted:
        return predict_rows(ins, np.array(self.rows, dtype=np.int64), version, job)

    def describe(self, ins):
        return f"predicting the page's {len(self.rows)} images"


def candidates(labels: np.ndarray | None, n: int, true_class: int) -> np.ndarray:
    """The rows whose label is ``true_class`` (every row for ``ALL``, or without labels).

    >>> candidates(np.array([1, 0, 1]), 3, 1).tolist(), candidates(None, 3, 1).tolist()
    ([0, 2], [0, 1, 2])
    """
    if true_class == ALL or labels is None:
        return np.arange(n)
    return np.flatnonzero(labels == true_class)


def arrange(predicted: Predicted, labels: np.ndarray | None, predicted_class: int, misclassified_first: bool) -> np.ndarray:
    """The rows of ``predicted`` kept by the predicted-class filter, misclassified ones first (most
    confident first) when asked and labels are known, the others in data order.

    >>> p = Predicted(np.array([0, 1, 2, 3]), np.array([1, 1, 0, 2]), np.array([0.9, 0.6, 0.8, 0.7]))
    >>> arrange(p, np.array([1, 0, 2, 2]), ALL, True).tolist()
    [2, 1, 0, 3]
    """
    keep = np.ones(len(predicted.rows), bool) if predicted_class == ALL else predicted.predicted == predicted_class
    rows, guess, confidence = predicted.rows[keep], predicted.predicted[keep], predicted.confidence[keep]
    if not misclassified_first or labels is None:
        return rows
    wrong = guess != labels[rows]
    first = np.flatnonzero(wrong)[np.argsort(-confidence[wrong], kind="stable")]
    return np.concatenate([rows[first], rows[~wrong]])


def page_of(rows: np.ndarray, page: int, size: int) -> tuple[np.ndarray, int, int]:
    """The rows of ``page`` (clamped to the pages there are), that page and the number of pages.

    >>> page_of(np.arange(10), 5, 4)
    (array([8, 9]), 2, 3)
    """
    pages = max(1, -(-len(rows) // size))
    page = min(max(page, 0), pages - 1)
    return rows[page * size:(page + 1) * size], page, pages
