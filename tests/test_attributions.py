import numpy as np
import pytest
import torch
import traitlets
from captum.attr import InputXGradient, IntegratedGradients, Saliency
from torch import nn

import nnwidgets as nw
from nnwidgets.core import decode_array
from nnwidgets.core.attributions import baseline_row
from nnwidgets.core.tasks import Attribution
from planted import Planted, data


@pytest.fixture
def linear():
    torch.manual_seed(0)
    return nn.Linear(4, 3)


def attribute(inspector, values, target=0, baseline="mean", output="logit", steps=50):
    return inspector.compute(Attribution(tuple(values), target, baseline, output, steps))


@pytest.mark.parametrize("baseline", ["mean", "median", "min", "zeros"])
def test_linear_model_matches_analytic_values(linear, baseline):
    X = data(features=4)
    x = X[5]
    a = attribute(nw.Inspector(linear, X), x, target=2, baseline=baseline)
    w = linear.weight.detach().double().numpy()[2]
    x0 = baseline_row(X, baseline)
    assert np.allclose(a.values[0], w, atol=1e-6)  # saliency: the gradient
    assert np.allclose(a.values[1], w * x, atol=1e-5)  # gradient × input
    assert np.allclose(a.values[2], w * (x - x0), atol=1e-5)  # integrated gradients, exact for linear models
    assert a.delta < 1e-4


@pytest.mark.parametrize("output", ["logit", "probability"])
def test_equal_to_captum_called_directly_on_a_nonlinear_model(output):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 3))
    X = data()
    a = attribute(nw.Inspector(net, X), X[9], target=1, output=output, steps=32)
    forward = (lambda t: torch.softmax(net(t), 1)) if output == "probability" else net
    x = torch.tensor(X[9:10], dtype=torch.float32)
    x0 = torch.tensor(X.mean(0)[None], dtype=torch.float32)
    ig = IntegratedGradients(forward).attribute(x, baselines=x0, target=1, n_steps=32).detach().double().numpy()[0]
    saliency = Saliency(forward).attribute(x, target=1, abs=False).detach().double().numpy()[0]
    gxi = InputXGradient(forward).attribute(x, target=1).detach().double().numpy()[0]
    assert np.allclose(a.values[2], ig, atol=1e-6)
    assert np.allclose(a.values[0], saliency, atol=1e-6) and np.allclose(a.values[1], gxi, atol=1e-6)


def test_preprocess_is_part_of_the_model_and_completeness_holds(linear):
    X = data(features=4) * 10 + 50
    mean, std = X.mean(0), X.std(0)
    scale = lambda v: (v - mean) / std  # noqa: E731
    a = attribute(nw.Inspector(linear, X, preprocess=scale), X[3], target=0)
    w = linear.weight.detach().double().numpy()[0]
    assert np.allclose(a.values[2], w * (X[3] - mean) / std, atol=1e-5)
    logits = lambda v: linear(torch.tensor(scale(v), dtype=torch.float32)).detach().double().numpy()[:, 0]  # noqa: E731
    assert a.values[2].sum() == pytest.approx(logits(X[3:4])[0] - logits(mean[None])[0], abs=1e-4)


def test_probability_output_and_single_logit_planted_model():
    X = data()
    s = nw.Inspector(Planted(), X)
    a = attribute(s, X[0], target=1, output="probability", baseline="zeros")
    assert set(np.flatnonzero(np.abs(a.values[2]) > 1e-9)) == {0, 2}
    p = s.predict(X[:1])[0, 1]
    assert a.values[2].sum() == pytest.approx(p - 0.5, abs=1e-3)
    r = attribute(nw.Inspector(Planted(classes=1), X), X[0], baseline="zeros")
    assert np.allclose(r.values[2], [3 * X[0, 0], 0, -2 * X[0, 2], 0, 0], atol=1e-5)


def test_a_model_that_outputs_probabilities_is_not_softmaxed_twice():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 3), nn.Softmax(dim=1))
    X = data()
    s = nw.Inspector(net, X)
    a = attribute(s, X[2], target=0, output="probability", baseline="zeros")
    with torch.no_grad():
        p = net(torch.tensor(np.stack([X[2], np.zeros(5)]), dtype=torch.float32))[:, 0].double().numpy()
    assert a.values[2].sum() == pytest.approx(p[0] - p[1], abs=1e-3) and a.output == "probability"
    assert attribute(s, X[2], output="logit").output == "log-probability"


def test_bad_baseline_and_output(linear):
    X = data(features=4)
    s = nw.Inspector(linear, X)
    with pytest.raises(ValueError, match="baseline must be one of"):
        attribute(s, X[0], baseline="average")
    with pytest.raises(ValueError, match="custom baseline needs 4 values"):
        attribute(s, X[0], baseline=(1.0, 2.0))
    with pytest.raises(ValueError, match="output must be one of"):
        attribute(s, X[0], output="odds")


def test_widget_follows_row_and_options(linear):
    X = data(features=4)
    attr = nw.Attributions(linear, X, target_class=1)
    w = linear.weight.detach().double().numpy()[1]
    assert np.allclose(attr.result.values[2], w * (X[0] - X.mean(0)), atol=1e-5)
    attr.row = 7
    attr.wait()
    assert decode_array(attr.attributions["for_values"]).tolist() == X[7].tolist()
    attr.baseline = [0.0, 0.0, 0.0, 0.0]
    assert np.allclose(attr.result.values[2], w * X[7], atol=1e-5)
    attr.baseline = "zeros"
    with pytest.raises(traitlets.TraitError):
        attr.steps = 1
    with pytest.raises(traitlets.TraitError, match="custom baseline needs 4 values"):
        attr.baseline = [1.0]
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
    assert "too large" in attr.wait().error
    attr.values = [0, 1, 0, 0, 0]
    assert attr.wait().error == ""
