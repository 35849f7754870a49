import numpy as np
import pytest

from nnwidgets.core.gam_surrogate import GamOptions, fit_gam
from nnwidgets.core.tabular import prepare_tabular
from planted import Additive, Planted, data


def test_additive_model_is_reproduced():
    X = data(rows=600)
    d, predict = prepare_tabular(Additive(), X)
    sur = fit_gam(d, predict)
    assert sur.fidelity_r2 >= 0.95 and sur.fidelity_accuracy is None
    assert [c.feature for c in sur.curves[:2]] == [0, 1]
    row = X[7]
    assert sur.intercept + sur.contributions(row).sum() == pytest.approx(sur.predict(row[None])[0], abs=1e-9)


def test_curves_equal_pygams_partial_dependence():
    X = data()
    d, predict = prepare_tabular(Planted(), X)
    sur = fit_gam(d, predict, label=1)
    for curve in sur.curves:
        term = sur.features.index(curve.feature)
        grid = sur.gam.generate_X_grid(term=term, n=len(curve.grid))
        effect, interval = sur.gam.partial_dependence(term=term, X=grid, width=0.95)
        assert np.array_equal(curve.grid, grid[:, term])
        assert np.array_equal(curve.effect, effect)
        assert np.array_equal(curve.lower, interval[:, 0]) and np.array_equal(curve.upper, interval[:, 1])


def test_planted_classification_ranks_its_features_and_agrees():
    X = data()
    d, predict = prepare_tabular(Planted(), X)
    sur = fit_gam(d, predict, label=1, options=GamOptions(target="logit"))
    assert {c.feature for c in sur.curves[:2]} == {0, 2}
    assert sur.fidelity_r2 > 0.99 and sur.fidelity_accuracy > 0.95


def test_constant_feature_is_left_out():
    X = data()
    X[:, 3] = 4.2
    d, predict = prepare_tabular(Planted(), X)
    sur = fit_gam(d, predict, label=1)
    assert 3 not in sur.features and sur.contributions(X[0])[3] == 0


def test_all_constant_and_bad_target():
    X = np.ones((20, 5))
    d, predict = prepare_tabular(Planted(), X)
    with pytest.raises(ValueError, match="every feature of X is constant"):
        fit_gam(d, predict)
    d, predict = prepare_tabular(Planted(), data())
    with pytest.raises(ValueError, match="target must be one of"):
        fit_gam(d, predict, options=GamOptions(target="odds"))


def test_gridsearch_option_runs():
    X = data(rows=200)
    d, predict = prepare_tabular(Additive(), X)
    assert fit_gam(d, predict, options=GamOptions(gridsearch=True)).fidelity_r2 > 0.9
