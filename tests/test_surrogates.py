import numpy as np
import pytest
import torch
import traitlets
from sklearn.linear_model import LinearRegression
from sklearn.tree import DecisionTreeRegressor
from torch import nn

import nnwidgets as nw
from nnwidgets.core import decode_array
from nnwidgets.core.surrogates import fit_tree
from nnwidgets.core.tasks import SurrogateFits
from planted import Additive, Planted, data


def fits(model, X, label=0, target="probability", depth=3):
    return nw.Inspector(model, X).compute(SurrogateFits(label, target, depth))


def test_linear_recovers_a_linear_model_exactly():
    X = data()
    lin = fits(Planted(classes=1), X)["linear"]
    assert np.allclose(lin.coef, [3, 0, -2, 0, 0], atol=1e-5) and lin.fidelity_r2 == pytest.approx(1.0)
    assert np.allclose(lin.effect, lin.coef * X[lin.split.train].std(axis=0))  # spread over the rows it was fitted on


def test_what_each_surrogate_can_capture_on_an_additive_model():
    sur = nw.Surrogates(Additive(), data(rows=600)).wait()
    r2 = {k: v["r2"] for k, v in sur.fitted["fidelity"].items()}
    assert r2["gam"] > 0.95 > r2["tree"] > r2["linear"]
    assert sur.fitted["split"] == "fitted on 480 rows; fidelity on 120 held-out rows"


def test_tree_and_linear_match_sklearn_fitted_directly():
    X = data()
    model = Planted(classes=1)
    models = fits(model, X, depth=2)
    with torch.no_grad():
        y = model(torch.tensor(X, dtype=torch.float32))[:, 0].double().numpy()
    train = models["tree"].split.train  # the rows they say they fitted: sklearn on those rows must agree
    assert len(train) == 320 and models["linear"].split is models["tree"].split
    reference = DecisionTreeRegressor(max_depth=2, random_state=0).fit(X[train], y[train])
    tree = models["tree"]
    assert np.allclose(tree.predict(X), reference.predict(X), atol=1e-6)
    assert tree.depth == 2 and len(tree.nodes) == 7
    root = tree.nodes[0]
    assert root.feature in (0, 2) and root.samples == len(train)
    leaf = tree.nodes[tree.leaf_of(X[0])]
    assert leaf.feature == -1 and leaf.value == pytest.approx(tree.predict(X[:1])[0])
    direct = LinearRegression().fit(X[train], y[train])
    assert np.allclose(models["linear"].predict(X), direct.predict(X), atol=1e-6)
    with pytest.raises(ValueError, match="max_depth must be at least 1"):
        fit_tree(X, y, X, y, "regression", "probability", tree.split, max_depth=0)


def test_widget_row_predictions_options_and_failures_in_the_widget():
    X = data()
    sur = nw.Surrogates(Planted(), X, target_class=1).wait()
    assert set(sur.fitted["fidelity"]) == {"gam", "linear", "tree"}
    sur.row = 4
    sur.wait()
    p = sur.row_predictions
    assert decode_array(p["for_values"]).tolist() == X[4].tolist()
    assert p["tree"] == pytest.approx(sur.models["tree"].predict(X[4:5])[0])
    z = 3 * X[4, 0] - 2 * X[4, 2]
    assert p["model"] == pytest.approx(1 / (1 + np.exp(-z)), abs=1e-6)  # the model's own P(class 1)
    assert decode_array(sur.fitted["tree"]["left"])[p["leaf"]] == -1
    sur.target = "logit"
    sur.max_depth = 2
    sur.wait()
    assert len(decode_array(sur.fitted["tree"]["feature"])) <= 7 and sur.fitted["target"] == "logit"
    with pytest.raises(traitlets.TraitError, match="between 1 and 6"):
        sur.max_depth = 9
    assert len(sur.figure().axes[0].patches) == 3
    constant = nw.Surrogates(nn.Linear(5, 2), np.ones((30, 5))).wait()  # nothing varies: the fit fails...
    assert "every feature of X is constant" in constant.error  # ...in the widget, not in the user's cell
