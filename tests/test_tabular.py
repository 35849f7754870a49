import numpy as np
import pytest
import torch
from torch import nn

import nnwidgets as nw
from nnwidgets.core.model_output import to_probabilities
from planted import Planted, data


def test_mode_inferred_and_names_defaulted():
    X = data()
    cls = nw.Inspector(Planted(), X)
    assert (cls.mode, cls.class_names, cls.feature_names[:2]) == ("classification", ("class 0", "class 1"), ("x0", "x1"))
    p = cls.predict(X[:3])
    assert p.shape == (3, 2) and np.allclose(p.sum(1), 1)
    z = 3 * X[:3, 0] - 2 * X[:3, 2]
    assert np.allclose(p[:, 1], 1 / (1 + np.exp(-z)), atol=1e-6)
    reg = nw.Inspector(Planted(classes=1), X)
    assert reg.mode == "regression" and reg.class_names == ()
    assert np.allclose(reg.predict(X[:3]), z, atol=1e-5)


def test_single_logit_classification_becomes_two_classes():
    X = data()
    s = nw.Inspector(Planted(classes=1), X, mode="classification", class_names=["no", "yes"])
    assert s.class_names == ("no", "yes") and s.predict(X[:2]).shape == (2, 2)


def test_probabilities_pass_through_and_logits_softmax():
    probs = np.array([[0.2, 0.8], [0.5, 0.5]])
    assert np.array_equal(to_probabilities(probs, "probabilities"), probs)
    logits = np.array([[0.0, np.log(3.0)]])
    assert np.allclose(to_probabilities(logits, "logits"), [[0.25, 0.75]])


def test_preprocess_and_dataframe_columns():
    pd = pytest.importorskip("pandas")
    X = data()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    s = nw.Inspector(Planted(), frame, preprocess=lambda v: v * 0)
    assert s.feature_names[0] == "f0"
    assert np.allclose(s.predict(X[:2])[:, 1], 0.5)


@pytest.mark.parametrize(
    ("X", "kwargs", "message"),
    [
        (data(features=4)[:, :2], {}, "could not take X's rows"),
        (np.array([[1.0, np.nan, 0, 0, 0]]), {}, "NaN or inf"),
        (np.array([[1.0, np.inf, 0, 0, 0]]), {}, "NaN or inf"),
        (np.zeros((0, 5)), {}, "empty"),
        (np.array([["a", "b", "c", "d", "e"]]), {}, "numeric"),
        (np.zeros(5), {}, "2-D"),
        (data(), {"feature_names": ["a", "b"]}, "feature_names has 2 names but the data has 5"),
        (data(), {"class_names": ["a", "b", "c"]}, "class_names has 3 names but the model gives 2"),
        (data(), {"mode": "ranking"}, "mode must be"),
        (data(), {"mode": "regression"}, "needs one output per row"),
        (data(), {"y": [1, 2]}, "y has 2 labels but X has 400 rows"),
    ],
)
def test_bad_input(X, kwargs, message):
    with pytest.raises(ValueError, match=message):
        nw.Inspector(Planted(), X, **kwargs)


def test_a_single_string_of_names_is_refused():
    with pytest.raises(TypeError, match="sequence of names"):
        nw.Inspector(Planted(), data(), feature_names="abcde")


def test_dataframe_with_text_columns_is_refused():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"], "c": [0, 1], "d": [True, False], "e": [3, 4]})
    frame["b"] = frame["b"].astype("string")
    with pytest.raises(ValueError, match=r"non-numeric columns \['b'\]"):
        nw.Inspector(Planted(), frame)


def test_single_row():
    s = nw.Inspector(Planted(), data(rows=1))
    assert s.data.X.shape == (1, 5) and s.predict(s.data.X).shape == (1, 2)


def test_nan_output_is_reported():
    class Broken(nn.Module):
        def forward(self, x):
            return torch.full((len(x), 2), float("nan"))

    with pytest.raises(ValueError, match="NaN or inf"):
        nw.Inspector(Broken(), data())


def test_tuple_outputs_are_refused_for_explanations():
    lstm = nn.Sequential(nn.Unflatten(1, (1, 5)), nn.LSTM(5, 2, batch_first=True))
    with pytest.raises(ValueError, match="returned a tuple; explanation views need one tensor"):
        nw.Inspector(lstm, data())


def test_predicting_the_read_only_current_values_warns_nothing():
    import warnings

    s = nw.Inspector(Planted(), data())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.predict(s.values)
