"""Image attributions (issue 10, point 2): Captum's own numbers on the shadow, checked against Captum called
on the model itself, a planted linear model with analytic truth, a preprocess, the model left untouched."""

import threading

import numpy as np
import pytest
import torch
from captum.attr import InputXGradient, IntegratedGradients, Occlusion, Saliency
from conftest import assert_same_state, fingerprint
from torch import nn

import nnwidgets as nw
from nnwidgets.core.image_attributions import MODEL_INPUTS, RAW_PIXELS, default_window, image_attributions
from nnwidgets.core.image_tasks import METHODS, ImageAttribution, ImageLime
from nnwidgets.core.scheduler import Slot


def small_cnn(channels: int = 1, classes: int = 10, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(channels, 6, 3, padding=1), nn.Tanh(), nn.Conv2d(6, 4, 3, padding=1), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(3), nn.Flatten(), nn.Linear(36, classes))


class Quadrant(nn.Module):
    """logit(class 1) = w · (sum of the top-left quadrant's pixels, every channel); logit(class 0) = 0."""

    def __init__(self, shape=(1, 8, 8), w: float = 2.0) -> None:
        super().__init__()
        c, h, wd = shape
        mask = torch.zeros(shape)
        mask[:, : h // 2, : wd // 2] = w
        self.weight = nn.Parameter(mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = (x * self.weight).sum(dim=(1, 2, 3))
        return torch.stack([torch.zeros_like(z), z], dim=1)


def pictures(n=12, shape=(1, 8, 8), scale=1.0, seed=0) -> np.ndarray:
    images = np.random.default_rng(seed).random((n, *shape)) * scale
    images[0] = 0.0  # the data's lowest value, the black picture, is 0
    return images


def attribute(s, method, target=1, row=3, **settings):
    return s.compute(ImageAttribution(tuple(s.data.X[row]), target, method, **settings))


def captum_directly(forward, x, x0, method, target=None, steps=32, window=2, stride=1):
    c = x.shape[1]
    if method == "saliency":
        out = Saliency(forward).attribute(x.clone().requires_grad_(True), target=target)
    elif method == "gradient_x_input":
        out = InputXGradient(forward).attribute(x.clone().requires_grad_(True), target=target)
    elif method == "integrated_gradients":
        out = IntegratedGradients(forward).attribute(x, baselines=x0, target=target, n_steps=steps)
    else:
        out = Occlusion(forward).attribute(x, sliding_window_shapes=(c, window, window), strides=(c, stride, stride),
                                           baselines=x0, target=target)
    return out.detach().double().numpy()[0]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 16, 12)])
def test_equal_to_captum_called_directly_on_the_model(method, shape):
    X = pictures(shape=shape)
    X[1:] += 0.1  # low stays 0 only through picture 0
    net = small_cnn(shape[0])
    s = nw.Inspector(net, X)
    ours = attribute(s, method, target=4, steps=16)
    x = torch.tensor(X[3:4], dtype=torch.float32)
    window = default_window(*shape[1:])
    theirs = captum_directly(net, x, torch.zeros_like(x), method, target=4, steps=16, window=window, stride=max(1, window // 2))
    np.testing.assert_allclose(ours.raw, theirs, atol=1e-6, rtol=1e-5)
    np.testing.assert_allclose(ours.map, theirs.sum(0), atol=1e-5, rtol=1e-5)
    assert ours.method == method and ours.target == 4 and ours.output == "logit" and ours.space == RAW_PIXELS
    assert ours.raw.dtype == np.float64 and ours.seconds > 0
    assert (ours.delta is None) == (method != "integrated_gradients")


def test_integrated_gradients_baseline_is_the_black_picture_and_delta_is_captum_s():
    X = pictures() + 0.25  # low = 0.25: black is 0.25 everywhere, not zero
    net = small_cnn()
    s = nw.Inspector(net, X)
    ours = attribute(s, "integrated_gradients", target=2, steps=8)
    x = torch.tensor(X[3:4], dtype=torch.float32)
    theirs, delta = IntegratedGradients(net).attribute(x, baselines=torch.full_like(x, 0.25), target=2, n_steps=8,
                                                       return_convergence_delta=True)
    np.testing.assert_allclose(ours.raw, theirs.detach().double().numpy()[0], atol=1e-6)
    assert ours.delta == pytest.approx(float(delta[0]), abs=1e-6) and ours.settings == "8 steps"
    with torch.no_grad():
        change = (net(x) - net(torch.full_like(x, 0.25)))[0, 2].item()
    assert ours.raw.sum() == pytest.approx(change + ours.delta, abs=1e-4)


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 6, 10)])
def test_planted_quadrant_model_has_analytic_attributions(shape):
    X = pictures(shape=shape)
    s = nw.Inspector(Quadrant(shape), X)
    x = X[3]
    quadrant = np.zeros(shape, bool)
    quadrant[:, : shape[1] // 2, : shape[2] // 2] = True
    w = np.where(quadrant, 2.0, 0.0)
    np.testing.assert_allclose(attribute(s, "saliency").raw, np.abs(w), atol=1e-6)
    np.testing.assert_allclose(attribute(s, "gradient_x_input").raw, w * x, atol=1e-6)
    ig = attribute(s, "integrated_gradients", steps=4)
    np.testing.assert_allclose(ig.raw, w * (x - 0.0), atol=1e-5)  # exact for a linear model, any number of steps
    assert abs(ig.delta) < 1e-4
    occlusion = attribute(s, "occlusion", window=2)
    near = np.zeros(shape[1:], bool)
    near[: shape[1] // 2 + 1, : shape[2] // 2 + 1] = True  # pixels some window shares with the quadrant
    assert np.all(occlusion.map[~near] == 0) and np.all(occlusion.map[: shape[1] // 2, : shape[2] // 2] > 0)
    assert attribute(s, "integrated_gradients", target=0).raw.max() == 0  # class 0's logit is constant


def test_preprocess_in_torch_gives_attributions_in_raw_pixel_units():
    X = pictures(scale=255.0)
    normalise = lambda v: (v - 127.5) / 64.0  # noqa: E731 - works on numpy arrays and on tensors alike
    s = nw.Inspector(Quadrant(), X, preprocess=normalise)
    x = X[3]
    w = np.zeros((1, 8, 8))
    w[:, :4, :4] = 2.0 / 64.0  # d logit / d raw pixel
    ig = attribute(s, "integrated_gradients")
    assert ig.space == RAW_PIXELS
    np.testing.assert_allclose(attribute(s, "gradient_x_input").raw, w * x, atol=1e-5)
    np.testing.assert_allclose(ig.raw, w * x, atol=1e-4)  # baseline: the raw black picture (0), not 0 after normalising
    net = small_cnn()
    s = nw.Inspector(net, X, preprocess=normalise)
    raw = torch.tensor(X[3:4])
    forward = lambda r: net(normalise(r).float())  # noqa: E731
    for method in METHODS:
        ours = attribute(s, method, target=7)
        theirs = captum_directly(forward, raw, torch.zeros_like(raw), method, target=7, window=2, stride=1)
        np.testing.assert_allclose(ours.raw, theirs, atol=1e-6, rtol=1e-5)


def test_numpy_only_preprocess_attributes_the_model_inputs_and_says_so():
    X = pictures(scale=255.0)
    to_unit = lambda v: np.asarray(v, dtype=np.float32) / 255.0  # noqa: E731 - not differentiable in torch
    net = small_cnn()
    s = nw.Inspector(net, X, preprocess=to_unit)
    ours = attribute(s, "integrated_gradients", target=1)
    assert ours.space == MODEL_INPUTS
    x = torch.tensor(to_unit(X[3:4]))
    theirs = captum_directly(net, x, torch.zeros_like(x), "integrated_gradients", target=1)
    np.testing.assert_allclose(ours.raw, theirs, atol=1e-6)


def test_model_outputting_probabilities_gets_log_probabilities_attributed():
    X = pictures()
    net = nn.Sequential(small_cnn(), nn.Softmax(dim=1))
    s = nw.Inspector(net, X)
    ours = attribute(s, "gradient_x_input", target=3)
    x = torch.tensor(X[3:4], dtype=torch.float32)
    theirs = captum_directly(lambda t: torch.log(net(t)), x, None, "gradient_x_input", target=3)
    assert ours.output == "log-probability"
    np.testing.assert_allclose(ours.raw, theirs, atol=1e-5)


def busy_cnn() -> nn.Module:
    """A CNN in training mode with gradients, a frozen part, a hook and batch-norm buffers."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5), nn.Flatten(),
                        nn.Linear(256, 3)).train()
    net(torch.randn(5, 1, 8, 8)).sum().backward()
    net[0].bias.requires_grad_(False)
    net[5].register_forward_hook(lambda *a: None)
    return net


def test_the_model_is_left_untouched():
    net = busy_cnn()
    X = pictures()
    s = nw.Inspector(net, X)
    before = fingerprint(net)
    for method in METHODS:
        attribute(s, method, target=2)
    s.compute(ImageLime(tuple(s.data.X[2]), 1, num_samples=60))
    assert_same_state(before, fingerprint(net))


def test_bad_requests_say_what_is_wrong():
    with pytest.raises(ValueError, match="saliency, gradient_x_input, integrated_gradients, occlusion"):
        ImageAttribution((0.0,) * 64, 1, "grad-cam")
    tabular = nw.Inspector(nn.Linear(4, 2), np.zeros((5, 4)))
    for task in (ImageAttribution((0.0,) * 4, 1, "saliency"), ImageLime((0.0,) * 4, 1)):
        with pytest.raises(TypeError, match="image data"):
            tabular.compute(task)
    s = nw.Inspector(small_cnn(), pictures())
    with pytest.raises(ValueError, match="class index 0..9"):
        attribute(s, "saliency", target=10)
    with pytest.raises(ValueError, match="steps"):
        attribute(s, "integrated_gradients", steps=0)
    with pytest.raises(ValueError, match=r"\(1, 8, 8\)"):
        image_attributions(s, np.zeros(10), 1, "saliency")


def test_lanes_and_shapes_the_values_may_take():
    values = (0.0,) * 64
    assert ImageAttribution(values, 1, "integrated_gradients").lane == "quick"
    assert ImageAttribution(values, 1, "occlusion").lane == "slow" and ImageAttribution(values, 1, "occlusion").settle > 0
    s = nw.Inspector(small_cnn(), pictures())
    a = image_attributions(s, s.current_image[0], 1, "saliency")  # (H, W) for a grey picture
    np.testing.assert_array_equal(a.raw, attribute(s, "saliency", target=1, row=0).raw)


class Slow(nn.Module):
    """The small CNN, 20 ms per forward pass: long enough to supersede a request while it runs."""

    def __init__(self) -> None:
        super().__init__()
        self.net = small_cnn()

    def forward(self, x):
        threading.Event().wait(0.02)
        return self.net(x)


def test_a_newer_request_wins():
    s = nw.Inspector(Slow(), pictures())
    X = s.data.X
    delivered, failed, done = [], [], threading.Event()
    slot = Slot(lambda r: (delivered.append(r), done.set()), lambda e: (failed.append(e), done.set()))
    for row in (1, 2, 3):
        s.request(slot, ImageAttribution(tuple(X[row]), 1, "occlusion", window=2))  # slow lane, settles
    assert done.wait(30) and not failed
    expected = s.compute(ImageAttribution(tuple(X[3]), 1, "occlusion", window=2))
    assert len(delivered) == 1 and delivered[0] is expected
    assert not any(s.peek(ImageAttribution(tuple(X[row]), 1, "occlusion", window=2))[0] for row in (1, 2))  # never ran
