import numpy as np
import pytest
import traitlets
from sklearn.tree import DecisionTreeRegressor

import nnwidgets as nw
from nnwidgets.core import decode_array
from nnwidgets.core.gam_surrogate import GamOptions, holdout_split, surrogate_target
from nnwidgets.core.surrogates import fit_linear, fit_tree
from nnwidgets.core.tabular import prepare_tabular
from planted import Additive, Planted, data


def test_linear_recovers_a_linear_model_exactly():
    X = data()
    d, predict = prepare_tabular(Planted(classes=1), X)
    lin = fit_linear(d, predict)
    assert np.allclose(lin.coef, [3, 0, -2, 0, 0], atol=1e-5) and lin.fidelity_r2 == pytest.approx(1.0)
    assert np.allclose(lin.effect, lin.coef * X.std(axis=0))


def test_what_each_surrogate_can_capture_on_an_additive_model():
    X = data(rows=600)
    d, predict = prepare_tabular(Additive(), X)
    sur = nw.Surrogates(Additive(), X).wait()
    r2 = {k: v["r2"] for k, v in sur.fitted["fidelity"].items()}
    assert r2["gam"] > 0.95 > r2["tree"] > r2["linear"]


def test_tree_matches_sklearn_and_is_exported_faithfully():
    X = data()
    d, predict = prepare_tabular(Planted(classes=1), X)
    tree = fit_tree(d, predict, max_depth=2)
    y = surrogate_target(d, predict, 0, "probability")
    train, _ = holdout_split(len(X), GamOptions().holdout, GamOptions().random_state)
    reference = DecisionTreeRegressor(max_depth=2, random_state=0).fit(X[train], y[train])
    assert np.array_equal(tree.model.predict(X), reference.predict(X))
    assert tree.depth == 2 and len(tree.nodes) == 7
    root = tree.nodes[0]
    assert root.feature in (0, 2) and root.samples == len(train)
    leaf = tree.nodes[tree.leaf_of(X[0])]
    assert leaf.feature == -1 and leaf.value == pytest.approx(tree.model.predict(X[:1])[0])
    with pytest.raises(ValueError, match="max_depth must be at least 1"):
        fit_tree(d, predict, max_depth=0)


def test_widget_row_predictions_and_options():
    X = data()
    sur = nw.Surrogates(Planted(), X, target_class=1).wait()
    assert set(sur.fitted["fidelity"]) == {"gam", "linear", "tree"}
    sur.row = 4
    p = sur.row_predictions
    assert decode_array(p["for_values"]).tolist() == X[4].tolist()
    assert p["tree"] == pytest.approx(sur.models["tree"].model.predict(X[4:5])[0])
    assert decode_array(sur.fitted["tree"]["left"])[p["leaf"]] == -1
    sur.target = "logit"
    sur.max_depth = 2
    sur.wait()
    assert len(decode_array(sur.fitted["tree"]["feature"])) <= 7 and sur.fitted["target"] == "logit"
    with pytest.raises(traitlets.TraitError, match="between 1 and 6"):
        sur.max_depth = 9
    assert len(sur.figure().axes[0].patches) == 3
