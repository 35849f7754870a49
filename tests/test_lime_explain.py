"""LIME's numbers are lime's own: compared with lime's public as_list()/as_map() on the same call."""

import numpy as np
import pytest
import torch
from lime.lime_tabular import LimeTabularExplainer

import nnwidgets as nw
from nnwidgets.core.lime_explain import LimeOptions
from nnwidgets.core.tasks import Lime
from planted import Planted, data, linear


def lime_directly(X, model_predict, row, mode, names, class_names, label, options):
    explainer = LimeTabularExplainer(X, mode=mode, feature_names=names, class_names=class_names,
                                     discretize_continuous=options.discretize_continuous, random_state=options.random_state)
    labels = (label,) if mode == "classification" else (0,)
    return explainer.explain_instance(row, model_predict, labels=labels, num_features=options.num_features,
                                      num_samples=options.num_samples)


@pytest.mark.parametrize("discretize", [True, False])
def test_classification_equals_lime_called_directly(discretize):
    X = data()
    model = Planted()
    s = nw.Inspector(model, X, feature_names=list("abcde"), class_names=["no", "yes"])
    options = LimeOptions(num_features=4, num_samples=1500, random_state=7, discretize_continuous=discretize)
    ours = s.compute(Lime(tuple(X[3]), 1, options))

    def model_predict(rows):  # the model's own probabilities, computed here, not by nnwidgets
        with torch.no_grad():
            return torch.softmax(model(torch.tensor(rows, dtype=torch.float32)), 1).double().numpy()

    exp = lime_directly(X, model_predict, X[3], "classification", list("abcde"), ["no", "yes"], 1, options)
    assert [(c, pytest.approx(w, abs=1e-6)) for c, w in exp.as_list(label=1)] == list(zip(ours.conditions, ours.weights))
    assert [i for i, _ in exp.as_map()[1]] == list(ours.features)
    assert ours.intercept == pytest.approx(float(exp.intercept[1]), abs=1e-6)
    assert ours.local_fidelity == pytest.approx(exp.score, abs=1e-6)


def test_regression_weights_have_lime_s_sign():
    """Linear(3, 1) with weights [5, -3, 0]: lime's as_list() says +2.40 and +1.35 (high x0 and low x1
    both raise the output); the widget must say the same."""
    model = linear([[5.0, -3.0, 0.0]])
    X = data(features=3)
    options = LimeOptions(num_samples=2000)
    s = nw.Inspector(model, X)
    assert s.mode == "regression"
    ours = s.compute(Lime(tuple(X[0]), 0, options))

    def model_predict(rows):
        with torch.no_grad():
            return model(torch.tensor(rows, dtype=torch.float32))[:, 0].double().numpy()

    exp = lime_directly(X, model_predict, X[0], "regression", ["x0", "x1", "x2"], None, 0, options)
    listed = exp.as_list()
    assert [(c, pytest.approx(w, abs=1e-6)) for c, w in listed] == list(zip(ours.conditions, ours.weights))
    assert [(i, pytest.approx(w, abs=1e-6)) for i, w in exp.as_map()[1]] == list(zip(ours.features, ours.weights))
    by_feature = dict(zip(ours.features, ours.weights))
    assert by_feature[0] > 0 and by_feature[1] > 0  # x0 "high" pushes up; x1 "low" pushes up too (weight -3)


def test_planted_features_rank_top_and_the_same_request_gives_the_same_answer():
    X = data()
    s = nw.Inspector(Planted(), X)
    result = s.compute(Lime(tuple(X[0]), 1, LimeOptions(num_samples=3000)))
    assert set(result.features[:2]) == {0, 2}
    signs = dict(zip(result.features, np.sign(result.weights)))
    assert signs[0] != signs[2]  # x0 pushes towards class 1, x2 away from it
    s2 = nw.Inspector(Planted(), X)
    assert s2.compute(Lime(tuple(X[0]), 1, LimeOptions(num_samples=3000))) == result


def test_one_forward_pass_per_explanation():
    from planted import Counted

    X = data()
    s = nw.Inspector(Counted(Planted()), X)
    Counted.log.clear()
    s.compute(Lime(tuple(X[0]), 1, LimeOptions(num_samples=800)))
    assert Counted.log == [800]
