"""A GAM fitted to a model's outputs (pyGAM): a global, additive surrogate with its fidelity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from pygam import LinearGAM, s, terms

from .tabular import Tabular

TARGETS = ("probability", "logit")
GRID_POINTS = 100


@dataclass(frozen=True)
class GamOptions:
    """pyGAM's knobs; ``target`` is what is fitted for classification (the model's chosen class)."""

    n_splines: int = 20
    lam: float = 0.6
    gridsearch: bool = False
    target: str = "probability"
    holdout: float = 0.2
    random_state: int = 0


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

    def contributions(self, row_values: np.ndarray) -> np.ndarray:
        """Each feature's term for one row (0 for features left out as constant)."""
        out = np.zeros(len(row_values))
        x = np.asarray(row_values, dtype=np.float64)[list(self.features)][None, :]
        for term, feature in enumerate(self.features):
            out[feature] = float(self.gam.partial_dependence(term=term, X=x)[0])
        return out

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return self.gam.predict(np.asarray(rows, dtype=np.float64)[:, list(self.features)])


def surrogate_target(
    data: Tabular, predict: Callable[[np.ndarray], np.ndarray], label: int, target: str
) -> np.ndarray:
    """What the GAM imitates: the chosen class's probability or logit, or the regression output."""
    out = predict(data.X)
    if data.mode == "regression":
        return out
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    p = out[:, label]
    if target == "logit":
        p = np.clip(p, 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))
    return p


def varying_features(X: np.ndarray) -> tuple[int, ...]:
    """Indices of the features that are not constant; a ``ValueError`` if none is left."""
    varying = tuple(int(i) for i in np.flatnonzero(np.ptp(X, axis=0) > 0))
    if not varying:
        raise ValueError("every feature of X is constant: there is nothing for a surrogate to learn")
    return varying


def holdout_split(n: int, holdout: float, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train, test)`` row indices; with fewer than 10 rows all are used for both."""
    order = np.random.default_rng(random_state).permutation(n)
    n_test = int(round(n * holdout)) if n >= 10 else 0
    return (order[n_test:], order[:n_test]) if n_test else (order, order)


def target_for_rows(
    data: Tabular, predict: Callable[[np.ndarray], np.ndarray], rows: np.ndarray, label: int, target: str
) -> np.ndarray:
    """:func:`surrogate_target` for other rows than ``data.X`` (e.g. the edited current values)."""
    return surrogate_target(replace(data, X=np.atleast_2d(rows)), predict, label, target)


def fit_gam(
    data: Tabular,
    predict: Callable[[np.ndarray], np.ndarray],
    label: int = 0,
    options: GamOptions = GamOptions(),
) -> GamSurrogate:
    """Fit one spline term per non-constant feature to the model's outputs on ``data.X``.

    Fidelity is measured on held-out rows (``options.holdout``): R² of the surrogate against the
    model and, for classification, how often both sides of 0.5 (or of logit 0) agree.
    """
    y = surrogate_target(data, predict, label, options.target)
    varying = varying_features(data.X)
    X = data.X[:, list(varying)]
    train, fitted_on = holdout_split(len(X), options.holdout, options.random_state)
    n_splines = max(4, min(options.n_splines, len(train) - 1))
    spec = terms.TermList(*[s(j, n_splines=n_splines, lam=options.lam) for j in range(len(varying))])
    gam = LinearGAM(spec)
    if options.gridsearch:
        gam.gridsearch(X[train], y[train], progress=False)
    else:
        gam.fit(X[train], y[train])
    r2, accuracy = fidelity(gam.predict(X[fitted_on]), y[fitted_on], data.mode, options.target)
    curves = [_curve(gam, X, term, feature) for term, feature in enumerate(varying)]
    curves.sort(key=lambda c: -c.importance)
    return GamSurrogate(gam, varying, curves, float(gam.coef_[-1]), r2, accuracy, options.target)


def _curve(gam: LinearGAM, X: np.ndarray, term: int, feature: int) -> Curve:
    """Importance: the spread (standard deviation) of the term's contribution over the data."""
    grid = gam.generate_X_grid(term=term, n=GRID_POINTS)
    effect, interval = gam.partial_dependence(term=term, X=grid, width=0.95)
    spread = float(np.std(gam.partial_dependence(term=term, X=X)))
    return Curve(feature, grid[:, term].copy(), effect, interval[:, 0], interval[:, 1], spread)


def fidelity(surrogate: np.ndarray, model: np.ndarray, mode: str, target: str) -> tuple[float, float | None]:
    residual = np.sum((model - surrogate) ** 2)
    total = np.sum((model - model.mean()) ** 2)
    r2 = float(1 - residual / total) if total > 0 else float(residual == 0)
    if mode == "regression":
        return r2, None
    threshold = 0.5 if target == "probability" else 0.0
    return r2, float(np.mean((surrogate >= threshold) == (model >= threshold)))
