"""ImageExplainer (issue 10, point 2): the gallery, the prediction, the overlays and the brush, against the
model's own outputs and Captum called directly; the model is never touched."""

import threading
import time
import zlib

import numpy as np
import pytest
import torch
import traitlets
from captum.attr import IntegratedGradients, Saliency
from sklearn.datasets import load_digits
from torch import nn

import nnwidgets as nw
from conftest import assert_same_state, fingerprint
from nnwidgets.core import decode_array
from nnwidgets.core.gallery import ALL, arrange, candidates, page_of
from nnwidgets.core.image_tasks import ImageAttribution, ImageLime

N = 300


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    return d.images[:N, None] / 16.0, d.target[:N]


@pytest.fixture(scope="module")
def cnn(digits):
    """A small CNN trained for a moment: right on most digits, wrong on some."""
    images, labels = digits
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(32, 10))
    x, y = torch.tensor(images, dtype=torch.float32), torch.tensor(labels)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.03)
    for _ in range(60):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
    return net.eval()


def probabilities(net, pictures) -> np.ndarray:
    with torch.no_grad():
        return torch.softmax(net(torch.tensor(np.asarray(pictures), dtype=torch.float32)), 1).double().numpy()


def explainer(cnn, digits, **kwargs):
    images, labels = digits
    s = nw.Inspector(cnn, images, y=labels, class_names=[str(d) for d in range(10)])
    return s, nw.ImageExplainer(s, **kwargs)


def test_gallery_pages_hold_the_images_as_one_sprite(cnn, digits):
    images, labels = digits
    s, ex = explainer(cnn, digits, page_size=50)
    ex.wait()
    g = ex.gallery
    assert g["total"] == N and g["pages"] == 6 and g["page"] == 0 and g["tile"] == [8, 8]
    rows = decode_array(g["rows"])
    assert rows.tolist() == list(range(50))
    sheet = decode_array(g["sprite"])
    for i in (0, 17, 49):
        r, c = divmod(i, g["columns"])
        tile = sheet[r * 8:(r + 1) * 8, c * 8:(c + 1) * 8, 0].astype(int)
        assert np.abs(tile - np.round(images[rows[i], 0] * 255)).max() <= 1
    assert decode_array(g["labels"]).tolist() == labels[:50].tolist()
    predicted = decode_array(ex.gallery_predictions["predicted"])
    assert predicted.tolist() == probabilities(cnn, images[:50]).argmax(1).tolist()
    ex.page = 5
    ex.wait()
    assert decode_array(ex.gallery["rows"]).tolist() == list(range(250, 300))
    ex.page = 99  # past the end: the last page
    ex.wait()
    assert ex.gallery["page"] == 5


def test_filters_and_misclassified_first_follow_the_models_own_predictions(cnn, digits):
    images, labels = digits
    guess = probabilities(cnn, images)
    predicted, confidence = guess.argmax(1), guess.max(1)
    wrong = np.flatnonzero(predicted != labels)
    assert 0 < len(wrong) < N / 2  # the oracle has something to find
    s, ex = explainer(cnn, digits, page_size=N)
    ex.misclassified_first = True
    ex.wait()
    rows = decode_array(ex.gallery["rows"])
    assert sorted(rows[:len(wrong)].tolist()) == wrong.tolist()
    assert np.all(np.diff(confidence[rows[:len(wrong)]]) <= 1e-6)  # most confident mistakes first
    assert rows[len(wrong):].tolist() == np.flatnonzero(predicted == labels).tolist()
    ex.misclassified_first = False
    ex.true_class = 3
    ex.predicted_class = 5
    ex.wait()
    expected = np.flatnonzero((labels == 3) & (predicted == 5))
    assert decode_array(ex.gallery["rows"]).tolist() == expected.tolist() and ex.gallery["total"] == len(expected)
    ex.predicted_class = ALL
    ex.wait()
    assert decode_array(ex.gallery["rows"]).tolist() == np.flatnonzero(labels == 3).tolist()


def test_gallery_helpers_on_their_own():
    labels = np.array([2, 0, 2, 1])
    assert candidates(labels, 4, 2).tolist() == [0, 2] and candidates(labels, 4, ALL).tolist() == [0, 1, 2, 3]
    rows, page, pages = page_of(np.arange(300), 7, 128)
    assert (rows[0], len(rows), page, pages) == (256, 44, 2, 3)
    assert page_of(np.arange(0), 0, 128)[0].tolist() == [] and page_of(np.arange(0), 3, 128)[1:] == (0, 1)
    from nnwidgets.core.gallery import Predicted
    p = Predicted(np.array([0, 1, 2, 3]), np.array([2, 1, 2, 0]), np.array([0.5, 0.9, 0.6, 0.4]))
    assert arrange(p, labels, 2, False).tolist() == [0, 2]
    assert arrange(p, labels, ALL, True).tolist() == [1, 3, 0, 2]


def test_clicking_a_thumbnail_is_choosing_the_row_everywhere(cnn, digits):
    images, _ = digits
    s, ex = explainer(cnn, digits)
    editor = nw.InputEditor(s)
    ex.set_state({"row": 42})  # what the page sends for a click on tile 42
    assert s.row == 42 and editor.row == 42
    np.testing.assert_array_equal(s.current_image, images[42])
    np.testing.assert_allclose(ex.prediction_values, probabilities(cnn, images[42:43])[0], rtol=1e-5, atol=1e-6)


def test_prediction_and_attributions_are_the_models_and_captums(cnn, digits):
    images, labels = digits
    s, ex = explainer(cnn, digits)
    ex.row = 11
    picture = images[11].copy()
    picture[0, 1:5, 2] = 1.0
    ex.values = picture
    expected = probabilities(cnn, picture[None])[0]
    np.testing.assert_allclose(ex.prediction_values, expected, rtol=1e-5, atol=1e-6)
    k = int(expected.argmax())
    assert s.target_class == k and ex.label == labels[11]  # explains the predicted class by default
    x = torch.tensor(picture[None], dtype=torch.float32)
    saliency = Saliency(cnn).attribute(x, target=k).detach().double().numpy()[0]
    a = ex.attribution
    assert a.method == "saliency" and a.target == k
    np.testing.assert_allclose(a.raw, saliency, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(decode_array(ex.overlay["map"]), saliency.sum(0), rtol=1e-4, atol=1e-6)
    ex.method = "integrated_gradients"
    ig = IntegratedGradients(cnn).attribute(x, baselines=torch.zeros_like(x), target=k, n_steps=32)
    np.testing.assert_allclose(ex.attribution.map, ig.detach().double().numpy()[0].sum(0), rtol=1e-4, atol=1e-5)
    assert ex.attribution is s.compute(ImageAttribution(tuple(picture.ravel()), k, "integrated_gradients", 32, 0))
    assert ex.overlay["for"] == f"{zlib.crc32(picture.astype('<f8').tobytes()):08x}" == ex.prediction["for"]


def test_lime_overlay_is_the_inspectors_result(cnn, digits):
    s, ex = explainer(cnn, digits, lime_samples=200, method="lime")
    ex.row = 3
    result = ex.lime
    assert result is s.compute(ImageLime(tuple(s.values.tolist()), s.target_class, 200, 0))
    assert ex.overlay["kind"] == "lime"
    np.testing.assert_array_equal(decode_array(ex.overlay["segments"]), result.segments)
    np.testing.assert_array_equal(decode_array(ex.overlay["weights"]), result.weights)
    ex.method = "saliency"  # LIME read while another overlay shows: computed for the current picture
    assert ex.lime is result


def test_painting_from_python_and_from_the_page_give_the_same_picture(cnn, digits):
    images, _ = digits
    s, ex = explainer(cnn, digits)
    ex.row = 7
    painted = images[7].copy()
    painted[0, 3, 1:7] = 1.0
    ex.values = painted  # from Python, as the picture's shape
    from_python = (s.values.copy(), ex.prediction_values.copy(), ex.attribution)
    ex.reset()
    np.testing.assert_array_equal(s.current_image, images[7])
    # The page sends a stroke as a float64 buffer of the flat picture.
    buffer = memoryview(painted.astype("<f8").ravel().tobytes())
    ex.set_state({"values": {"buffer": buffer, "dtype": "float64", "shape": [64]}})
    np.testing.assert_array_equal(s.values, from_python[0])
    np.testing.assert_array_equal(ex.prediction_values, from_python[1])
    assert ex.attribution is from_python[2]  # the same task: the cached result
    ex._on_message(ex, {"event": "reset"}, [])  # the page's reset button
    np.testing.assert_array_equal(s.current_image, images[7])
    s.values = painted  # on the inspector: the view follows
    assert ex.values == painted.ravel().tolist()


def test_choosing_a_class_stops_following_the_prediction(cnn, digits):
    s, ex = explainer(cnn, digits)
    ex.wait()
    predicted = int(np.argmax(ex.prediction_values))
    other = (predicted + 1) % 10
    ex.target_class = other
    ex.wait()
    assert not ex.follow_prediction and ex.attribution.target == other and ex.overlay["target"] == other
    ex.row = 20
    ex.wait()
    assert s.target_class == other
    ex.follow_prediction = True
    ex.wait()
    assert s.target_class == int(np.argmax(ex.prediction_values)) == ex.attribution.target


def test_figure_draws_picture_overlay_and_bars(cnn, digits):
    _, ex = explainer(cnn, digits)
    fig = ex.figure()
    assert len(fig.axes) == 3 and len(fig.axes[2].patches) == 10


def test_options_are_checked(cnn, digits):
    images, _ = digits
    s, ex = explainer(cnn, digits)
    for name, bad in [("steps", 1), ("steps", 5000), ("brush_size", 0), ("page_size", 0), ("true_class", 10), ("predicted_class", -2),
                      ("method", "gradcam"), ("colormap", "jet"), ("opacity", 1.5), ("brush_value", float("nan"))]:
        with pytest.raises(traitlets.TraitError):
            setattr(ex, name, bad)
    with pytest.raises(traitlets.TraitError, match=r"\(1, 8, 8\)"):
        ex.values = np.zeros((4, 16))
    unlabelled = nw.ImageExplainer(cnn, images)
    with pytest.raises(traitlets.TraitError, match="needs labels"):
        unlabelled.misclassified_first = True
    assert unlabelled.label == -1 and unlabelled.brush_value == images.max()


def test_tables_are_refused_with_a_clear_type_error():
    with pytest.raises(TypeError, match="needs image data"):
        nw.ImageExplainer(nw.Inspector(nn.Linear(4, 2), np.zeros((10, 4))))
    with pytest.raises(TypeError, match="needs data"):
        nw.ImageExplainer(nn.Linear(4, 2))


def test_an_error_shows_in_the_widget_and_the_next_picture_recovers(digits):
    class Fragile(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(64, 3)

        def forward(self, x):
            if (x[:, 0, 0, 0] > 0.9).any():
                raise RuntimeError("corner too bright")
            return self.head(x.flatten(1))

    images, _ = digits
    ex = nw.ImageExplainer(Fragile(), images)
    picture = images[0].copy()
    picture[0, 0, 0] = 1.0
    ex.values = picture
    assert "corner too bright" in ex.wait().error
    with pytest.raises(ValueError, match="nothing to draw"):
        ex.figure()
    picture[0, 0, 0] = 0.0
    ex.values = picture
    assert ex.wait().error == ""


def test_the_model_is_untouched_even_while_the_user_trains_in_a_thread(digits):
    images, labels = digits
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.3), nn.Flatten(),
                          nn.Linear(256, 10)).train()
    model[1].eval()
    model(torch.tensor(images[:8], dtype=torch.float32)).sum().backward()
    model[0].bias.requires_grad_(False)
    model[5].register_forward_hook(lambda *a: None)
    before = fingerprint(model)
    s = nw.Inspector(model, images, y=labels)
    ex = nw.ImageExplainer(s, lime_samples=100)
    for method in ("saliency", "integrated_gradients", "occlusion", "lime", "gradient_x_input"):
        ex.method = method
        ex.row = 5
        ex.wait()
    ex.misclassified_first = True
    ex.values = np.ones((8, 8))
    ex.figure()
    ex.wait()
    assert_same_state(before, fingerprint(model))

    problems = []

    def train():
        optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3)
        x, y = torch.tensor(images[:64], dtype=torch.float32), torch.tensor(labels[:64])
        for _ in range(40):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            if not model.training or not model[3].training:
                problems.append("a module was in eval mode during the user's step")
            loss.backward()
            optimizer.step()

    thread = threading.Thread(target=train)
    thread.start()
    i = 0
    while thread.is_alive():
        ex.row = i % 50
        ex.values = np.clip(images[i % 50] + 0.1, 0, 1)
        i += 1
        time.sleep(0.01)
    thread.join()
    assert problems == [] and not model[1].training and model[0].bias.requires_grad is False
    s.check_for_changes()
    ex.wait()
    assert ex.error == ""


def test_a_changed_model_sends_new_predictions_not_the_thumbnails_again(cnn, digits):
    import copy

    images, labels = digits
    net = copy.deepcopy(cnn)
    s = nw.Inspector(net, images, y=labels)
    ex = nw.ImageExplainer(s)
    ex.wait()
    sheet = ex.gallery
    with torch.no_grad():
        net[-1].bias[3] += 50.0  # now everything is a 3
    s.check_for_changes()
    ex.wait()
    assert ex.gallery is sheet
    assert decode_array(ex.gallery_predictions["predicted"]).tolist() == [3] * 128
    assert int(np.argmax(ex.prediction_values)) == 3 == s.target_class


def test_big_data_sends_one_page_of_thumbnails():
    rng = np.random.default_rng(0)
    images = rng.random((20_000, 4, 4)).astype(np.float32)
    labels = rng.integers(0, 2, 20_000)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    ex = nw.ImageExplainer(net, images, y=labels, misclassified_first=True)
    ex.wait()
    assert ex.error == "" and ex.gallery["total"] == 20_000 and ex.gallery["pages"] == 157
    assert len(decode_array(ex.gallery["rows"])) == 128 and decode_array(ex.gallery["sprite"]).shape == (32, 64, 4)
    guess = probabilities(net, images).argmax(1)
    rows = decode_array(ex.gallery["rows"])
    assert np.all(guess[rows] != labels[rows])  # the first page: all misclassified
