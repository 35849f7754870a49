"""Samples of the data for work that cannot use every row: seeded, stratified by the model's class
where there are classes, and always saying how many rows were used of how many."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_HOLDOUT_ROWS = 10
POOL_FACTOR = 4  # candidates looked at per sampled row, to stratify by the model's class


@dataclass(frozen=True)
class Split:
    """Rows (indices into X) the surrogates are fitted on and rows their fidelity is scored on.
    ``total`` is how many rows X has; ``stratified`` whether the draw kept the model's class shares.
    With fewer than 10 rows none can be spared: fidelity is then measured on the fitted rows."""

    train: np.ndarray
    test: np.ndarray
    held_out: bool
    total: int
    stratified: bool = False

    @property
    def sampled(self) -> bool:
        return self.held_out and len(self.train) + len(self.test) < self.total

    def describe(self) -> str:
        """In words, for the views: "fitted on 10,000 of 1,000,000 rows …; fidelity on 10,000 held-out rows"."""
        if not self.held_out:
            return f"fitted on all {len(self.train):,} rows; fidelity on the same rows (too few rows to hold any out)"
        fitted = f"fitted on {len(self.train):,} of {self.total:,} rows" if self.sampled else f"fitted on {len(self.train):,} rows"
        how = " (a sample stratified by the model's class)" if self.sampled and self.stratified else " (a random sample)" if self.sampled else ""
        return f"{fitted}{how}; fidelity on {len(self.test):,} held-out rows"


def holdout_split(n: int, holdout: float, random_state: int, fit_rows: int | None = None,
                  score_rows: int | None = None) -> Split:
    """A seeded split of ``n`` rows, ``holdout`` of them for scoring (at least one of each side), each
    side cut to ``fit_rows`` / ``score_rows`` rows when given.

    >>> holdout_split(100, 0.2, 0).test.size, holdout_split(5, 0.2, 0).held_out
    (20, False)
    >>> split = holdout_split(100, 0.2, 0, fit_rows=30)
    >>> split.train.size, split.test.size, split.sampled
    (30, 20, True)
    """
    order = np.random.default_rng(random_state).permutation(n)
    if n < MIN_HOLDOUT_ROWS:
        return Split(order, order, False, n)
    n_test = min(n - 1, max(1, int(round(n * holdout))))
    train, test = order[n_test:], order[:n_test]
    return Split(train[:fit_rows], test[:score_rows], True, n)


def planned_rows(n: int, fit_rows: int, score_rows: int, holdout: float) -> tuple[int, int]:
    """How many rows a surrogate of ``n`` rows is fitted on and scored on (see :func:`holdout_split` for
    data with at most ``fit_rows + score_rows`` rows, :func:`split_sample` beyond).

    >>> planned_rows(1_000_000, 4_000, 10_000, 0.2), planned_rows(10_000, 1_000, 10_000, 0.2)
    ((4000, 10000), (1000, 2000))
    """
    if n > fit_rows + score_rows:
        return fit_rows, score_rows
    if n < MIN_HOLDOUT_ROWS:
        return n, n
    n_test = min(n - 1, max(1, int(round(n * holdout))))
    return min(n - n_test, fit_rows), min(n_test, score_rows)


def allocate(counts: np.ndarray, size: int) -> np.ndarray:
    """How many of ``size`` draws each stratum gets: proportional to ``counts`` (largest remainders),
    at least one for every stratum that has rows, never more than a stratum has.

    >>> allocate(np.array([90, 9, 1]), 10).tolist()
    [8, 1, 1]
    """
    counts = np.asarray(counts, dtype=np.int64)
    size = min(int(size), int(counts.sum()))
    share = counts / counts.sum() * size
    take = np.minimum(np.floor(share).astype(np.int64), counts)
    take[(counts > 0) & (take == 0)] = 1
    while take.sum() > size:  # the floor of one per stratum overshot: shave the largest
        take[np.argmax(take)] -= 1
    order = np.argsort(-(share - np.floor(share)))
    i = 0
    while take.sum() < size:
        k = order[i % len(order)]
        if take[k] < counts[k]:
            take[k] += 1
        i += 1
    return take


def stratified(labels: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of ``size`` draws from ``labels``, each label's share kept (see :func:`allocate`)."""
    classes, inverse = np.unique(labels, return_inverse=True)
    take = allocate(np.bincount(inverse, minlength=len(classes)), size)
    picked = [rng.choice(np.flatnonzero(inverse == k), take[k], replace=False) for k in range(len(classes))]
    return rng.permutation(np.concatenate(picked))


def split_sample(pool: np.ndarray, labels: np.ndarray | None, fit_rows: int, score_rows: int, total: int,
                 rng: np.random.Generator) -> Split:
    """``fit_rows`` and ``score_rows`` disjoint rows drawn from ``pool`` (indices into X); with
    ``labels`` (the model's class for each pool row) both keep the classes' shares."""
    if labels is None:
        chosen = rng.permutation(pool)[: fit_rows + score_rows]
        return Split(np.sort(chosen[:fit_rows]), np.sort(chosen[fit_rows:]), True, total, False)
    picked = stratified(labels, fit_rows + score_rows, rng)
    test_positions = stratified(labels[picked], score_rows, rng)
    is_test = np.zeros(len(picked), bool)
    is_test[test_positions] = True
    return Split(np.sort(pool[picked[~is_test]]), np.sort(pool[picked[is_test]]), True, total, True)


def random_rows(n: int, size: int, seed: int) -> np.ndarray:
    """``size`` distinct row indices of ``n`` (all of them, in order, when ``n <= size``), sorted."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))
