import numpy as np
import pytest
import torch
import traitlets
from torch import nn

import nnwidgets as nw
from nnwidgets.core import decode_array
from nnwidgets.core.attributions import attribute, baseline_row
from nnwidgets.core.tabular import prepare_tabular
from planted import Planted, data


@pytest.fixture
def linear():
    torch.manual_seed(0)
    return nn.Linear(4, 3)


@pytest.mark.parametrize("baseline", ["mean", "median", "min", "zeros"])
def test_linear_model_matches_analytic_values(linear, baseline):
    X = data(features=4)
    d, _ = prepare_tabular(linear, X)
    x = X[5]
    a = attribute(linear, d, x, target=2, baseline=baseline)
    w = linear.weight.detach().double().numpy()[2]
    x0 = baseline_row(X, baseline)
    assert np.allclose(a.values[0], w, atol=1e-6)  # saliency: the gradient
    assert np.allclose(a.values[1], w * x, atol=1e-5)  # gradient × input
    assert np.allclose(a.values[2], w * (x - x0), atol=1e-5)  # integrated gradients, exact for linear models
    assert a.delta < 1e-4


def test_preprocess_is_part_of_the_model_and_completeness_holds(linear):
    X = data(features=4) * 10 + 50
    mean, std = X.mean(0), X.std(0)
    scale = lambda v: (v - mean) / std  # noqa: E731
    d, predict = prepare_tabular(linear, X, preprocess=scale)
    a = attribute(linear, d, X[3], target=0, baseline="mean", preprocess=scale)
    w = linear.weight.detach().double().numpy()[0]
    assert np.allclose(a.values[2], w * (X[3] - mean) / std, atol=1e-5)
    logits = lambda v: linear(torch.tensor(scale(v), dtype=torch.float32)).detach().double().numpy()[:, 0]  # noqa: E731
    assert a.values[2].sum() == pytest.approx(logits(X[3:4])[0] - logits(mean[None])[0], abs=1e-4)


def test_probability_output_and_single_logit_planted_model():
    X = data()
    d, predict = prepare_tabular(Planted(), X)
    a = attribute(Planted(), d, X[0], target=1, output="probability", baseline="zeros")
    assert np.count_nonzero(np.abs(a.values[2]) > 1e-9) == 2 and set(np.flatnonzero(a.values[2])) == {0, 2}
    p = predict(X[:1])[0, 1]
    assert a.values[2].sum() == pytest.approx(p - 0.5, abs=1e-3)
    reg, _ = prepare_tabular(Planted(classes=1), X)
    r = attribute(Planted(classes=1), reg, X[0], baseline="zeros")
    assert np.allclose(r.values[2], [3 * X[0, 0], 0, -2 * X[0, 2], 0, 0], atol=1e-5)


def test_bad_baseline_and_output(linear):
    X = data(features=4)
    d, _ = prepare_tabular(linear, X)
    with pytest.raises(ValueError, match="baseline must be one of"):
        attribute(linear, d, X[0], baseline="average")
    with pytest.raises(ValueError, match="custom baseline needs 4 values"):
        attribute(linear, d, X[0], baseline=[1.0, 2.0])
    with pytest.raises(ValueError, match="output must be one of"):
        attribute(linear, d, X[0], output="odds")


def test_widget_follows_row_and_options(linear):
    X = data(features=4)
    attr = nw.Attributions(linear, X, target_class=1)
    w = linear.weight.detach().double().numpy()[1]
    assert np.allclose(decode_array(attr.attributions["values"])[2], w * (X[0] - X.mean(0)), atol=1e-5)
    attr.row = 7
    assert decode_array(attr.attributions["for_values"]).tolist() == X[7].tolist()
    attr.baseline = [0.0, 0.0, 0.0, 0.0]
    assert np.allclose(attr.result.values[2], w * X[7], atol=1e-5)
    attr.baseline = "zeros"
    with pytest.raises(traitlets.TraitError):
        attr.steps = 1
    fig = attr.figure()
    assert len(fig.axes) == 3 and len(fig.axes[0].patches) == 4


def test_error_message_and_recovery():
    class Fragile(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.ones(5))

        def forward(self, x):
            if (x[:, 1] > 50).any():
                raise RuntimeError("too large")
            return torch.stack([torch.zeros(len(x)), x @ self.w], 1)

    attr = nw.Attributions(Fragile(), data())
    attr.values = [0, 99, 0, 0, 0]
    assert "too large" in attr.error
    attr.values = [0, 1, 0, 0, 0]
    assert attr.error == ""
