"""LIME for pictures (issue 10, point 6): lime's own numbers (compared with LimeImageExplainer called
directly with the same seed, superpixels and hidden colour), superpixels that suit 8 × 8 digits and
photos, a planted model, progress and cancellation."""

import threading

import numpy as np
import pytest
import torch
from lime.lime_image import LimeImageExplainer
from skimage import data as skdata
from skimage.transform import resize
from sklearn.datasets import load_digits
from torch import nn

import nnwidgets as nw
from nnwidgets.core.image_lime import explain_image_lime, lime_picture, segment_picture, segmentation_function
from nnwidgets.core.image_tasks import ImageLime
from nnwidgets.core.images import ImageLayout, as_images
from nnwidgets.core.scheduler import Slot


def small_cnn(channels: int = 1, classes: int = 10, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(channels, 6, 3, padding=1), nn.Tanh(), nn.AdaptiveAvgPool2d(3), nn.Flatten(),
                         nn.Linear(54, classes))


@pytest.fixture(scope="module")
def digits():
    return load_digits().images[:100]  # (n, 8, 8), values 0..16


def probabilities_of(net, to_nchw):
    def predict(lime_pictures: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return torch.softmax(net(torch.tensor(to_nchw(lime_pictures), dtype=torch.float32)), 1).double().numpy()
    return predict


def lime_directly(picture, layout, predict, target, num_samples, seed):
    explainer = LimeImageExplainer(random_state=seed)
    return explainer.explain_instance(lime_picture(picture), predict, labels=(target,), hide_color=layout.low,
                                      top_labels=None, num_samples=num_samples, segmentation_fn=segmentation_function(layout),
                                      random_seed=seed)


def assert_same_explanation(ours, theirs, target):
    weights = np.zeros_like(ours.weights)
    for segment, weight in theirs.local_exp[target]:
        weights[segment] = weight
    np.testing.assert_allclose(ours.weights, weights, atol=1e-7)
    np.testing.assert_array_equal(ours.segments, theirs.segments)
    assert ours.intercept == pytest.approx(theirs.intercept[target], abs=1e-7)
    assert ours.score == pytest.approx(theirs.score, abs=1e-7)


def test_grey_digit_equals_lime_called_directly(digits):
    net = small_cnn()
    s = nw.Inspector(net, digits)
    ours = s.compute(ImageLime(tuple(s.data.X[5]), 3, num_samples=400, seed=7))
    grey = lambda batch: batch[:, None, :, :, 0]  # noqa: E731 - lime hands grey pictures over as three equal channels
    theirs = lime_directly(s.images(5)[0], s.image, probabilities_of(net, grey), 3, 400, 7)
    assert_same_explanation(ours, theirs, 3)
    assert ours.target == 3 and ours.samples == 400 and ours.seconds > 0 and ours.hidden_value == 0.0


def test_colour_channels_last_picture_equals_lime_called_directly():
    rng = np.random.default_rng(1)
    photos = rng.random((6, 24, 20, 3))
    net = small_cnn(channels=3, classes=4)
    s = nw.Inspector(net, photos)
    assert s.image.given == "NHWC"
    ours = s.compute(ImageLime(tuple(s.data.X[2]), 1, num_samples=300, seed=3))
    theirs = lime_directly(s.images(2)[0], s.image, probabilities_of(net, lambda b: np.moveaxis(b, -1, 1)), 1, 300, 3)
    assert_same_explanation(ours, theirs, 1)


def test_superpixels_suit_digits_photos_and_blank_pictures(digits):
    _, layout = as_images(digits)
    counts = [len(np.unique(segment_picture(np.repeat(d[..., None], 3, -1), layout))) for d in digits[:30]]
    assert min(counts) >= 6 and max(counts) <= 20  # several superpixels on an 8 × 8 digit
    blank = segment_picture(np.zeros((8, 8, 3)), layout)
    assert len(np.unique(blank)) >= 4  # a grid when SLIC sees nothing to separate
    photo = resize(skdata.astronaut(), (224, 224))
    photo_layout = ImageLayout((3, 224, 224), "NHWC", 0.0, 1.0)
    segments = segment_picture(photo, photo_layout)
    assert 20 <= len(np.unique(segments)) <= 120
    for s in (blank, segments):
        assert set(np.unique(s)) == set(range(s.max() + 1))  # ids 0..k-1, as lime assumes


class Quadrant(nn.Module):
    """logit(class 1) = 4 · (mean of the top-left quadrant) − 2; logit(class 0) = 0."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(4.0))

    def forward(self, x):
        z = self.scale * x[:, :, :8, :8].mean(dim=(1, 2, 3)) - 2
        return torch.stack([torch.zeros_like(z), z], dim=1)


def test_planted_model_weights_only_superpixels_in_its_quadrant():
    pictures = np.full((3, 16, 16), 0.2)
    pictures[:, :8, :8] = 0.9
    pictures[1:] = np.random.default_rng(0).random((2, 16, 16))
    pictures[2] = 0.0
    s = nw.Inspector(Quadrant(), pictures)
    r = s.compute(ImageLime(tuple(s.data.X[0]), 1, num_samples=1000))
    share = np.array([((r.segments == k)[:8, :8]).sum() / (r.segments == k).sum() for k in range(len(r.weights))])
    assert (share > 0.9).any() and np.all(r.weights[share > 0.9] > 0.02)
    assert np.all(np.abs(r.weights[share == 0]) < 0.1 * r.weights.max())


def test_progress_is_reported_per_batch_and_the_model_is_untouched(digits):
    from conftest import assert_same_state, fingerprint

    net = small_cnn().train()
    s = nw.Inspector(net, digits)
    before = fingerprint(net)
    seen = []
    predict = s.predict_function()
    result = explain_image_lime(s.image, predict, s.values, 2, num_samples=250, batch_size=50,
                                progress=lambda fraction, text: seen.append((fraction, text)))
    assert [f for f, _ in seen] == [0.2, 0.4, 0.6, 0.8, 1.0] and seen[-1][1] == "LIME: 250 of 250 pictures"
    assert result.samples == 250
    assert_same_state(before, fingerprint(net))


def test_bad_requests(digits):
    s = nw.Inspector(small_cnn(), digits)
    with pytest.raises(ValueError, match="class index"):
        s.compute(ImageLime(tuple(s.values), 12))
    with pytest.raises(ValueError, match="num_samples"):
        s.compute(ImageLime(tuple(s.values), 1, num_samples=1))


class Slow(nn.Module):
    """The small CNN, 20 ms per forward pass."""

    def __init__(self) -> None:
        super().__init__()
        self.net = small_cnn()
        self.rows = 0

    def forward(self, x):
        self.rows += len(x)
        threading.Event().wait(0.02)
        return self.net(x)


def test_a_newer_request_cancels_a_running_one(digits):
    model = Slow()
    s = nw.Inspector(model, digits)
    running, delivered, failed, done = threading.Event(), [], [], threading.Event()
    slot = Slot(lambda r: (delivered.append(r), done.set()), lambda e: (failed.append(e), done.set()),
                lambda text, fraction: running.set() if fraction else None)
    first = ImageLime(tuple(s.data.X[0]), 1, num_samples=5000)
    s.request(slot, first)
    assert running.wait(30)
    model.rows = 0
    s.request(slot, ImageLime(tuple(s.data.X[1]), 1, num_samples=100))
    assert done.wait(30) and not failed
    assert len(delivered) == 1 and delivered[0].samples == 100
    assert model.rows < 1000 and not s.peek(first)[0]  # the first stopped within a batch of the request
