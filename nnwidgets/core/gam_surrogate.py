"""A GAM fitted to a model's outputs (pyGAM): a global, additive surrogate with its fidelity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pygam import LinearGAM, s, terms

from .model_output import log_odds
from .sampling import Split

TARGETS = ("probability", "logit")
GRID_POINTS = 100
MAX_COEFFICIENTS = 2_000  # pyGAM solves a dense system of this size
MAX_TERMS = 50  # wider data: the GAM gets the features whose binned means move most with the output
SCREEN_BINS = 10
MATRIX_ENTRIES = 4_000_000  # rows × coefficients of the model matrix; pyGAM's peak memory is ~9× its 8 bytes each
FIT_ROWS = (1_000, 20_000)


def splines_per_term(n_splines: int, features: int) -> int:
    """At most ``n_splines`` basis functions per feature, fewer for wide data so that the GAM keeps
    at most 2,000 coefficients in all (at least 4 each).

    >>> splines_per_term(20, 50), splines_per_term(20, 500)
    (20, 4)
    """
    return max(4, min(n_splines, MAX_COEFFICIENTS // max(features, 1)))


def auto_fit_rows(n_splines: int, features: int) -> int:
    """Rows to fit on when the user did not say: as many as keep pyGAM's model matrix near 32 MB
    (its working memory is about nine times that), between 1,000 and 20,000, for the at most 50
    features a GAM is given.

    >>> auto_fit_rows(20, 50), auto_fit_rows(20, 4)
    (4000, 20000)
    """
    features = min(features, MAX_TERMS)
    coefficients = splines_per_term(n_splines, features) * features
    return int(min(FIT_ROWS[1], max(FIT_ROWS[0], MATRIX_ENTRIES // coefficients)))


@dataclass(frozen=True)
class GamOptions:
    """pyGAM's knobs; ``target`` is what is fitted for classification (the chosen class's probability
    or its log-odds). Data with more than ``fit_rows + score_rows`` rows is sampled: the fit uses
    ``fit_rows`` rows (0: as many as fit in memory, see :func:`auto_fit_rows`), fidelity is scored on
    ``score_rows`` others; smaller data is split ``holdout`` for scoring."""

    n_splines: int = 20
    lam: float = 0.6
    gridsearch: bool = False
    target: str = "probability"
    holdout: float = 0.2
    random_state: int = 0
    fit_rows: int = 0
    score_rows: int = 10_000

    def rows_to_fit(self, features: int) -> int:
        return self.fit_rows or auto_fit_rows(self.n_splines, features)


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
    """The fitted surrogate: ``curves`` for non-constant features (most important first); ``split``
    says which rows it was fitted on and scored on (``fitted_rows``, ``scored_rows``)."""

    gam: LinearGAM
    features: tuple[int, ...]
    curves: list[Curve]
    intercept: float
    fidelity_r2: float
    fidelity_accuracy: float | None
    target: str
    split: Split
    n_splines: int = 20
    candidates: tuple[int, ...] = ()  # features that vary; more than MAX_TERMS are screened down to the GAM's

    @property
    def screened(self) -> bool:
        return len(self.candidates) > len(self.features)

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


def screen_features(X: np.ndarray, y: np.ndarray, features: tuple[int, ...], limit: int = MAX_TERMS) -> tuple[int, ...]:
    """The ``limit`` features (of ``features``) whose decile-binned means of ``y`` vary most, in the
    given order: the correlation ratio η², which sees any one-feature dependence, straight or curved.

    >>> X = np.random.default_rng(0).normal(size=(2000, 4))
    >>> screen_features(X, X[:, 2] ** 2, (0, 1, 2, 3), limit=1)
    (2,)
    """
    if len(features) <= limit:
        return features
    total = np.var(y) or 1.0
    scores = []
    for j in features:
        edges = np.unique(np.quantile(X[:, j], np.linspace(0, 1, SCREEN_BINS + 1)[1:-1]))
        bins = np.searchsorted(edges, X[:, j])
        counts = np.bincount(bins)
        means = np.bincount(bins, weights=y) / np.maximum(counts, 1)
        scores.append(np.sum(counts * (y.mean() - means) ** 2) / len(y) / total)
    keep = set(np.argsort(scores)[::-1][:limit].tolist())
    return tuple(j for k, j in enumerate(features) if k in keep)


def fit_gam(X_fit: np.ndarray, y_fit: np.ndarray, X_score: np.ndarray, y_score: np.ndarray, mode: str,
            split: Split, options: GamOptions = GamOptions()) -> GamSurrogate:
    """Fit one spline term per feature that varies in ``X_fit`` to the target ``y_fit`` (the model's
    outputs on those rows), and measure fidelity on the rows ``X_score`` (held out when ``split`` says
    so): R² of the surrogate against the model and, for classification, how often both sides of 0.5
    (or of log-odds 0) agree.
    """
    candidates = varying_features(X_fit)
    varying = screen_features(X_fit, y_fit, candidates)
    columns = list(varying)
    Xv = np.asarray(X_fit[:, columns], dtype=np.float64)
    n_splines = max(4, min(splines_per_term(options.n_splines, len(columns)), len(Xv) - 1))
    spec = terms.TermList(*[s(j, n_splines=n_splines, lam=options.lam) for j in range(len(varying))])
    gam = LinearGAM(spec)
    if options.gridsearch:
        gam.gridsearch(Xv, y_fit, progress=False)
    else:
        gam.fit(Xv, y_fit)
    scored = gam.predict(np.asarray(X_score[:, columns], dtype=np.float64))
    r2, accuracy = fidelity(scored, y_score, mode, options.target)
    curves = [_curve(gam, Xv, term, feature) for term, feature in enumerate(varying)]
    curves.sort(key=lambda c: -c.importance)
    return GamSurrogate(gam, varying, curves, float(gam.coef_[-1]), r2, accuracy, options.target, split, n_splines,
                        candidates)


def _curve(gam: LinearGAM, X: np.ndarray, term: int, feature: int) -> Curve:
    """Importance: the spread (standard deviation) of the term's contribution over the fitted rows."""
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
