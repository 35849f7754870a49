import numpy as np
import pytest
import torch
from pygam import LinearGAM, s as spline, terms

import nnwidgets as nw
from nnwidgets.core.gam_surrogate import GamOptions, surrogate_target
from nnwidgets.core.tasks import GamFit
from planted import Additive, Planted, data


def gam(model, X, label=0, **options):
    return nw.Inspector(model, X).compute(GamFit(label, GamOptions(**options)))


def test_additive_model_is_reproduced():
    X = data(rows=600)
    sur = gam(Additive(), X)
    assert sur.fidelity_r2 >= 0.95 and sur.fidelity_accuracy is None
    assert [c.feature for c in sur.curves[:2]] == [0, 1]
    row = X[7]
    assert sur.intercept + sur.contributions(row).sum() == pytest.approx(sur.predict(row[None])[0], abs=1e-9)


def test_equals_pygam_fitted_directly_to_the_models_outputs():
    X = data()
    sur = gam(Planted(), X, label=1)
    with torch.no_grad():
        p = torch.softmax(Planted()(torch.tensor(X, dtype=torch.float32)), 1)[:, 1].double().numpy()
    train = sur.split.train  # the rows it says it fitted: pyGAM on those rows must give the same GAM
    assert len(train) == 320 and set(train).isdisjoint(sur.split.test)
    direct = LinearGAM(terms.TermList(*[spline(j, n_splines=20, lam=0.6) for j in range(5)])).fit(X[train], p[train])
    assert np.allclose(sur.predict(X[:50]), direct.predict(X[:50]), atol=1e-6)
    for curve in sur.curves:
        term = sur.features.index(curve.feature)
        grid = direct.generate_X_grid(term=term, n=len(curve.grid))
        effect, interval = direct.partial_dependence(term=term, X=grid, width=0.95)
        assert np.allclose(curve.effect, effect, atol=1e-6) and np.allclose(curve.lower, interval[:, 0], atol=1e-6)


def test_planted_classification_ranks_its_features_and_agrees():
    sur = gam(Planted(), data(), label=1, target="logit")
    assert {c.feature for c in sur.curves[:2]} == {0, 2}
    assert sur.fidelity_r2 > 0.99 and sur.fidelity_accuracy > 0.95


def test_fidelity_is_held_out_and_says_how_many_rows():
    sur = gam(Planted(), data(rows=400), label=1)
    assert (sur.fitted_rows, sur.scored_rows) == (320, 80) and sur.split.held_out
    assert set(sur.split.train).isdisjoint(sur.split.test)
    assert sur.split.describe() == "fitted on 320 rows; fidelity on 80 held-out rows"
    small = gam(Planted(), data(rows=8), label=1, n_splines=4)
    assert not small.split.held_out and "too few rows to hold any out" in small.split.describe()


def test_constant_feature_is_left_out():
    X = data()
    X[:, 3] = 4.2
    sur = gam(Planted(), X, label=1)
    assert 3 not in sur.features and sur.contributions(X[0])[3] == 0


def test_all_constant_and_bad_target():
    with pytest.raises(ValueError, match="every feature of X is constant"):
        gam(Planted(), np.ones((20, 5)))
    with pytest.raises(ValueError, match="target must be one of"):
        surrogate_target(np.ones((3, 2)) / 2, "classification", 0, "odds")


def test_gridsearch_option_runs():
    assert gam(Additive(), data(rows=200), gridsearch=True).fidelity_r2 > 0.9
