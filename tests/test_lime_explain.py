import numpy as np
import pytest
from lime.lime_tabular import LimeTabularExplainer

from nnwidgets.core.lime_explain import LimeOptions, explain_lime
from nnwidgets.core.tabular import prepare_tabular
from planted import Planted, data


@pytest.mark.parametrize("discretize", [True, False])
@pytest.mark.parametrize("classes", [2, 1])
def test_equals_calling_lime_directly(discretize, classes):
    X = data()
    d, predict = prepare_tabular(Planted(classes=classes), X, feature_names=list("abcde"))
    options = LimeOptions(num_features=4, num_samples=1500, random_state=7, discretize_continuous=discretize)
    ours = explain_lime(d, predict, X[3], 1 if d.mode == "classification" else 0, options)

    direct = LimeTabularExplainer(X, mode=d.mode, feature_names=list("abcde"), class_names=list(d.class_names) or None,
                                  discretize_continuous=discretize, random_state=7)
    label = 1 if d.mode == "classification" else 0
    exp = direct.explain_instance(X[3], predict, labels=(label,), num_features=4, num_samples=1500)
    key = label if d.mode == "classification" else next(iter(exp.local_exp))
    assert np.allclose(ours.weights, [w for _, w in exp.local_exp[key]], atol=1e-9, rtol=0)
    assert list(ours.features) == [i for i, _ in exp.local_exp[key]]
    assert list(ours.conditions) == [c for c, _ in exp.as_list(label=key)]
    assert ours.intercept == pytest.approx(float(np.ravel(exp.intercept[key])[0]), abs=1e-9)
    assert ours.local_fidelity == pytest.approx(exp.score, abs=1e-9)


def test_planted_features_rank_top():
    X = data()
    d, predict = prepare_tabular(Planted(), X)
    result = explain_lime(d, predict, X[0], 1, LimeOptions(num_samples=3000))
    assert set(result.features[:2]) == {0, 2}
    signs = dict(zip(result.features, np.sign(result.weights)))
    assert signs[0] != signs[2]  # x0 pushes towards class 1, x2 away from it


def test_same_request_same_answer():
    X = data()
    d, predict = prepare_tabular(Planted(), X)
    a = explain_lime(d, predict, X[5], 1, LimeOptions(num_samples=500))
    b = explain_lime(d, predict, X[5], 1, LimeOptions(num_samples=500))
    assert a == b


def test_one_forward_per_explanation():
    X = data()
    d, predict = prepare_tabular(Planted(), X)
    calls = []
    explain_lime(d, lambda v: calls.append(len(v)) or predict(v), X[0], 1, LimeOptions(num_samples=800))
    assert calls == [800]
