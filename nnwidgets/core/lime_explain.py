"""LIME on one row of tabular data, through lime's own LimeTabularExplainer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from lime.lime_tabular import LimeTabularExplainer

from .tabular import Tabular

REGRESSION_LABEL = 1  # lime keeps a regression's weights under label 1 (label 0 holds them negated)


@dataclass(frozen=True)
class LimeOptions:
    """The lime arguments a user can set; the defaults are lime's, except a fixed seed."""

    num_features: int = 10
    num_samples: int = 5000
    random_state: int | None = 0
    discretize_continuous: bool = True


@dataclass(frozen=True)
class LimeResult:
    """``features``/``conditions``/``weights``: lime's explanation, largest |weight| first, as
    lime's own ``as_list()``/``as_map()`` give them. ``label`` is the explained class (0 for regression).
    lime's feature statistics (quartiles, scales) came from ``training_rows`` of X's ``total_rows`` rows."""

    features: tuple[int, ...]
    conditions: tuple[str, ...]
    weights: tuple[float, ...]
    intercept: float
    local_prediction: float
    local_fidelity: float
    prediction: tuple[float, ...]
    label: int
    samples: int
    training_rows: int = 0
    total_rows: int = 0


def explain_lime(
    data: Tabular,
    predict: Callable[[np.ndarray], np.ndarray],
    row_values: np.ndarray,
    label: int = 0,
    options: LimeOptions = LimeOptions(),
) -> LimeResult:
    """Explain ``predict`` (class probabilities, or regression values) at ``row_values`` with lime,
    exactly as calling lime directly would.

    A new explainer per call: lime's explainer advances its random state on every call, so reusing
    one would make the same request give different answers.
    """
    explainer = LimeTabularExplainer(
        data.X,
        mode=data.mode,
        feature_names=list(data.feature_names),
        class_names=list(data.class_names) or None,
        discretize_continuous=options.discretize_continuous,
        random_state=options.random_state,
    )
    classification = data.mode == "classification"
    explanation = explainer.explain_instance(
        np.asarray(row_values, dtype=np.float64),
        predict,
        labels=(label,) if classification else (0,),
        num_features=min(options.num_features, data.n_features),
        num_samples=options.num_samples,
    )
    key = label if classification else REGRESSION_LABEL
    listed = explanation.as_list(label=key)
    mapped = explanation.as_map()[key]
    prediction = tuple(float(p) for p in explanation.predict_proba) if classification else (float(explanation.predicted_value),)
    return LimeResult(
        features=tuple(int(i) for i, _ in mapped),
        conditions=tuple(c for c, _ in listed),
        weights=tuple(float(w) for _, w in listed),
        intercept=float(np.ravel(explanation.intercept[key])[0]),
        local_prediction=float(np.ravel(explanation.local_pred)[0]),
        local_fidelity=float(explanation.score),
        prediction=prediction,
        label=label if classification else 0,
        samples=options.num_samples,
        training_rows=len(data.X),
        total_rows=len(data.X),
    )
