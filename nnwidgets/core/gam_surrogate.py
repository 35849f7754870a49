"""A GAM fitted to a model's outputs (pyGAM): a global, additive surrogate with its fidelity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pygam import LinearGAM, s, terms

from .model_output import log_odds

TARGETS = ("probability", "logit")
GRID_POINTS = 100
MIN_HOLDOUT_ROWS = 10


@dataclass(frozen=True)
class GamOptions:
    """pyGAM's knobs; ``target`` is what is fitted for classification (the chosen class's probability
    or its log-odds); ``holdout`` the share of rows kept out of the fit to measure fidelity."""

    n_splines: int = 20
    lam: float = 0.6
    gridsearch: bool = False
    target: str = "probability"
    holdout: float = 0.2
    random_state: int = 0


@dataclass(frozen=True)
class Split:
    """Rows the surrogates are fitted on and rows their fidelity is scored on. With fewer than 10
    rows none can be spared: fidelity is then measured on the fitted rows (``held_out`` False)."""

    train: np.ndarray
    test: np.ndarray
    held_out: bool

    def describe(self) -> str:
        if self.held_out:
            return f"fitted on {len(self.train):,} rows; fidelity on {len(self.test):,} held-out rows"
        return f"fitted on all {len(self.train):,} rows; fidelity on the same rows (too few rows to hold any out)"


def holdout_split(n: int, holdout: float, random_state: int) -> Split:
    """A seeded split of ``n`` rows, ``holdout`` of them for scoring (at least one of each side).

    >>> holdout_split(100, 0.2, 0).test.size, holdout_split(5, 0.2, 0).held_out
    (20, False)
    """
    order = np.random.default_rng(random_state).permutation(n)
    if n < MIN_HOLDOUT_ROWS:
        return Split(order, order, False)
    n_test = min(n - 1, max(1, int(round(n * holdout))))
    return Split(order[n_test:], order[:n_test], True)


def surrogate_target(outputs: np.ndarray, mode: str, label: int, target: str) -> np.ndarray:
    """What a surrogate imitates, from the model's predictions (class probabilities rows × classes,
    or regression values): the chosen class's probability or log-odds, or the regression output."""
    if mode == "regression":
        return np.asarray(outputs, dtype=np.float64).reshape(len(outputs))
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    p = outputs[:, label]
    return log_odds(p) if target == "logit" else p


@dataclass(frozen=True)
class Curve:
    """Partial dependence of one feature: ``grid`` values, ``effect`` and its 95 % interval."""

    feature: int
    grid: np.ndarray
    effect: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    importance: float


@dataclass
class GamSurrogate:
    """The fitted surrogate: ``curves`` for non-constant features (most important first)."""

    gam: LinearGAM
    features: tuple[int, ...]
    curves: list[Curve]
    intercept: float
    fidelity_r2: float
    fidelity_accuracy: float | None
    target: str
    split: Split

    @property
    def fitted_rows(self) -> int:
        return len(self.split.train)

    @property
    def scored_rows(self) -> int:
        return len(self.split.test)

    def contributions(self, row_values: np.ndarray) -> np.ndarray:
        """Each feature's term for one row (0 for features left out as constant)."""
        out = np.zeros(len(row_values))
        x = np.asarray(row_values, dtype=np.float64)[list(self.features)][None, :]
        for term, feature in enumerate(self.features):
            out[feature] = float(self.gam.partial_dependence(term=term, X=x)[0])
        return out

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return self.gam.predict(np.asarray(rows, dtype=np.float64)[:, list(self.features)])


def varying_features(X: np.ndarray) -> tuple[int, ...]:
    """Indices of the features that are not constant; a ``ValueError`` if none is left."""
    varying = tuple(int(i) for i in np.flatnonzero(np.ptp(X, axis=0) > 0))
    if not varying:
        raise ValueError("every feature of X is constant: there is nothing for a surrogate to learn")
    return varying


def fit_gam(X: np.ndarray, y: np.ndarray, mode: str, options: GamOptions = GamOptions()) -> GamSurrogate:
    """Fit one spline term per non-constant feature of ``X`` to the target ``y`` (the model's outputs).

    Fidelity is measured on held-out rows (``options.holdout``): R² of the surrogate against the
    model and, for classification, how often both sides of 0.5 (or of log-odds 0) agree.
    """
    varying = varying_features(X)
    Xv = X[:, list(varying)]
    split = holdout_split(len(X), options.holdout, options.random_state)
    n_splines = max(4, min(options.n_splines, len(split.train) - 1))
    spec = terms.TermList(*[s(j, n_splines=n_splines, lam=options.lam) for j in range(len(varying))])
    gam = LinearGAM(spec)
    if options.gridsearch:
        gam.gridsearch(Xv[split.train], y[split.train], progress=False)
    else:
        gam.fit(Xv[split.train], y[split.train])
    r2, accuracy = fidelity(gam.predict(Xv[split.test]), y[split.test], mode, options.target)
    curves = [_curve(gam, Xv, term, feature) for term, feature in enumerate(varying)]
    curves.sort(key=lambda c: -c.importance)
    return GamSurrogate(gam, varying, curves, float(gam.coef_[-1]), r2, accuracy, options.target, split)


def _curve(gam: LinearGAM, X: np.ndarray, term: int, feature: int) -> Curve:
    """Importance: the spread (standard deviation) of the term's contribution over the data."""
    grid = gam.generate_X_grid(term=term, n=GRID_POINTS)
    effect, interval = gam.partial_dependence(term=term, X=grid, width=0.95)
    spread = float(np.std(gam.partial_dependence(term=term, X=X)))
    return Curve(feature, grid[:, term].copy(), effect, interval[:, 0], interval[:, 1], spread)


def fidelity(surrogate: np.ndarray, model: np.ndarray, mode: str, target: str) -> tuple[float, float | None]:
    """R² of the surrogate against the model and, for classification, agreement on the side of 0.5
    (probability) or 0 (log-odds)."""
    residual = np.sum((model - surrogate) ** 2)
    total = np.sum((model - model.mean()) ** 2)
    r2 = float(1 - residual / total) if total > 0 else float(residual == 0)
    if mode == "regression":
        return r2, None
    threshold = 0.5 if target == "probability" else 0.0
    return r2, float(np.mean((surrogate >= threshold) == (model >= threshold)))
