import numpy as np
import pytest
import torch
import traitlets

import nnwidgets as nw
from nnwidgets.core import decode_array
from nnwidgets.core.importance import permutation_importance, score, sensitivity
from nnwidgets.core.tasks import Ice, Importance
from planted import Planted, data


def test_regression_drops_match_analytic_values():
    # y = 3·x0 − 2·x2 with standard normal features: shuffling x_j breaks its covariance with y,
    # so R² falls by 2·Var(a_j·x_j) / Var(y): 18/13 for x0, 8/13 for x2, 0 for ignored features.
    X = data(rows=4000)
    p = nw.Inspector(Planted(classes=1), X).compute(Importance("r2", 10))
    assert p.baseline == pytest.approx(1.0) and (p.rows, p.repeats) == (4000, 10)
    assert p.mean[0] == pytest.approx(18 / 13, rel=0.06)
    assert p.mean[2] == pytest.approx(8 / 13, rel=0.06)
    assert np.all(p.drops[[1, 3, 4]] == 0)
    assert p.std.shape == (5,) and np.all(p.std[[0, 2]] > 0)


def test_classification_with_and_without_labels():
    X = data()
    own = nw.Inspector(Planted(), X).compute(Importance("accuracy", 3))
    assert own.baseline == 1.0 and own.mean[0] > own.mean[2] > 0 and not own.labels
    y = (3 * X[:, 0] - 2 * X[:, 2] > 0).astype(int)
    labelled = nw.Inspector(Planted(), X, y=y).compute(Importance("log loss", 3))
    assert labelled.baseline < 0 and labelled.mean[0] > 0 and labelled.mean[1] == 0 and labelled.labels
    s = nw.Inspector(Planted(), X)
    with pytest.raises(ValueError, match="does not fit mode"):
        permutation_importance(X, s.predict, s.predict(X), "classification", metric="r2")
    with pytest.raises(ValueError, match="y has 3 labels"):
        nw.Inspector(Planted(), X, y=[0, 1, 0])


def test_score_direction():
    assert score("mse", np.array([1.0, 2.0]), np.array([1.0, 4.0])) == -2.0
    with pytest.raises(ValueError, match="unknown metric"):
        score("f1", np.zeros(2), np.zeros(2))


def test_ice_lines_are_exact_for_the_planted_model():
    X = data()
    row = X[4]
    s = sensitivity(X[:7], X.min(0), X.max(0), nw.Inspector(Planted(classes=1), X).predict, row, points=11).for_output(0)
    assert s.grid.shape == (5, 11) and s.background.shape == (5, 7, 11)
    assert np.allclose(s.current[0], 3 * s.grid[0] - 2 * row[2], atol=1e-5)
    assert np.allclose(s.current[1], 3 * row[0] - 2 * row[2], atol=1e-5)  # ignored feature: flat line


def test_ice_for_every_class_comes_from_one_pass():
    from planted import Counted

    X = data()
    s = nw.Inspector(Counted(Planted()), X)
    Counted.log.clear()
    lines = s.compute(Ice(tuple(X[2]), (0, 1, 2, 3, 4)))
    assert len(Counted.log) == 1 and lines.current.shape == (5, 25, 2)
    assert np.allclose(lines.current[..., 0] + lines.current[..., 1], 1.0)


def test_widget():
    X = data()
    y = (3 * X[:, 0] - 2 * X[:, 2] > 0).astype(int)
    imp = nw.Importance(Planted(), X, y=y, target_class=1, repeats=4).wait()
    assert imp.metrics == ["accuracy", "log loss"] and imp.importance["labels"]
    assert imp.importance["rows"] == 400 and imp.importance["repeats"] == 4
    assert decode_array(imp.importance["mean"])[1] == 0
    imp.row = 3
    imp.wait()
    assert decode_array(imp.ice["for_values"]).tolist() == X[3].tolist()
    z = 3 * imp.sensitivity.grid[0] - 2 * X[3, 2]
    assert np.allclose(imp.sensitivity.current[0], 1 / (1 + np.exp(-z)), atol=1e-6)  # class 1's probability
    imp.metric = "log loss"
    imp.wait()
    assert imp.permutation.metric == "log loss"
    with pytest.raises(traitlets.TraitError, match="metric must be one of"):
        imp.metric = "r2"
    assert len(imp.figure().axes[0].patches) == 5


def test_wide_data_computes_ice_only_for_the_features_shown_in_bounded_batches():
    from planted import Counted

    X = np.random.default_rng(0).normal(size=(200, 300))
    torch.manual_seed(0)
    s = nw.Inspector(Counted(torch.nn.Sequential(torch.nn.Linear(300, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))), X)
    imp = nw.Importance(s, repeats=1).wait()
    assert len(imp.ice_features) == 12  # the most important 12, once ranked
    ranked = np.argsort(-imp.permutation.mean)[:12].tolist()
    assert imp.ice_features == ranked and decode_array(imp.ice["features"]).tolist() == ranked
    Counted.log.clear()
    s.values = X[1]
    imp.wait()
    ice_rows = 12 * 31 * 25
    assert max(Counted.log) <= 8192 and sum(Counted.log) <= ice_rows + 1  # 12 features' lines (plus the row's own pass)
    assert ice_rows * 300 * 8 < 100 * 2**20  # the batch those rows make stays under 100 MB
    imp.ice_features = [5]  # a click on feature 5's bar
    imp.wait()
    assert decode_array(imp.ice["features"]).tolist() == [5] and decode_array(imp.ice["current"]).shape == (1, 25)
