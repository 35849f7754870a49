"""Image data in the inspector (issue 10, point 1): layouts, painting, predictions, thumbnails."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

import nnwidgets as nw
from nnwidgets.core.images import as_images, display_rgba, sprite


def digits_cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 10))


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    return d.images[:200, None] / 16.0, d.target[:200]


def model_probabilities(model, images) -> np.ndarray:
    with torch.no_grad():
        return torch.softmax(model(torch.tensor(images, dtype=torch.float32)), 1).numpy()


def test_grey_colour_and_channels_last_layouts():
    flat, layout = as_images(np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4))
    assert layout.shape == (1, 3, 4) and layout.given == "NHW" and flat.shape == (2, 12)
    rgb_last = np.random.default_rng(0).random((5, 6, 7, 3))
    flat, layout = as_images(rgb_last)
    assert layout.shape == (3, 6, 7) and layout.given == "NHWC"
    np.testing.assert_array_equal(flat[2].reshape(3, 6, 7), rgb_last[2].transpose(2, 0, 1))
    # Channels first wins when both axes could be channels; channels_last= decides otherwise.
    assert as_images(np.zeros((2, 3, 5, 3)))[1].given == "NCHW"
    assert as_images(np.zeros((2, 3, 5, 3)), channels_last=True)[1].shape == (3, 3, 5)
    assert as_images(np.zeros((2, 4, 4), np.uint8))[0].dtype == np.float32


def test_float_channels_first_images_are_not_copied():
    images = np.random.default_rng(0).random((4, 1, 8, 8)).astype(np.float32)
    flat, _ = as_images(images)
    assert np.shares_memory(flat, images)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((2, 3)), None),
    (np.zeros((2, 1, 2, 2, 2)), "3-D"),
    (np.full((2, 1, 3, 3), np.nan), "NaN"),
    (np.zeros((0, 1, 3, 3)), "empty"),
])
def test_bad_image_arrays_say_what_is_expected(bad, message):
    if message is None:  # 2-D is a table, not pictures: as_images refuses it
        with pytest.raises(ValueError, match="3-D"):
            as_images(bad)
        return
    with pytest.raises(ValueError, match=message):
        as_images(bad)


def test_inspector_predicts_images_as_the_model_does(digits):
    images, labels = digits
    cnn = digits_cnn()
    s = nw.Inspector(cnn, images, y=labels)
    assert s.image.shape == (1, 8, 8) and s.data.n_rows == 200
    np.testing.assert_allclose(s.prediction, model_probabilities(cnn, images[:1])[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(s.predict(images[5:9].reshape(4, -1)), model_probabilities(cnn, images[5:9]), rtol=1e-5, atol=1e-6)
    s.row = 7
    np.testing.assert_array_equal(s.current_image, images[7])
    np.testing.assert_array_equal(s.images([3, 4]), images[3:5])


def test_painting_is_assigning_values_in_any_accepted_shape(digits):
    images, _ = digits
    cnn = digits_cnn()
    s = nw.Inspector(cnn, images)
    painted = images[0].copy()
    painted[0, 1:4, 2:6] = 1.0
    expected = model_probabilities(cnn, painted[None])[0]
    for given in (painted, painted[0], painted.ravel(), painted.ravel().tolist()):
        s.row = 0
        s.values = given
        np.testing.assert_array_equal(s.current_image, painted)
        np.testing.assert_allclose(s.prediction, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"\(1, 8, 8\)"):
        s.values = np.zeros((3, 3))


def test_channels_last_data_takes_channels_last_pictures_and_model_sees_channels_first():
    rng = np.random.default_rng(1)
    rgb = rng.random((10, 6, 6, 3))
    torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(3, 2, 3), nn.Flatten(), nn.Linear(2 * 4 * 4, 2))
    s = nw.Inspector(cnn, rgb)
    first = rgb.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(s.prediction, model_probabilities(cnn, first[:1])[0], rtol=1e-5, atol=1e-6)
    s.values = rgb[4]  # (H, W, C), as the data was given
    np.testing.assert_array_equal(s.current_image, first[4])


def test_preprocess_gets_pictures_and_shows_raw_pixels(digits):
    images, _ = digits
    raw = images * 16.0  # pixel units 0..16
    cnn = digits_cnn()
    seen = []

    def normalise(batch):
        seen.append(batch.shape[1:])
        return batch / 16.0

    s = nw.Inspector(cnn, raw, preprocess=normalise)
    assert seen and all(shape == (1, 8, 8) for shape in seen)
    assert s.image.high == raw.max()
    np.testing.assert_allclose(s.prediction, model_probabilities(cnn, images[:1])[0], rtol=1e-5, atol=1e-6)


def test_images_the_model_cannot_take_and_misplaced_arguments():
    cnn = digits_cnn()
    with pytest.raises(ValueError, match="channels_last"):
        nw.Inspector(cnn, np.zeros((4, 3, 8, 8)))  # three channels for a one-channel conv
    with pytest.raises(TypeError, match="channels_last"):
        nw.Inspector(nn.Linear(3, 2), np.zeros((4, 3)), channels_last=True)
    with pytest.raises(TypeError, match="feature_names"):
        nw.Inspector(cnn, np.zeros((4, 8, 8)), feature_names=["a"] * 64)


def test_thumbnail_sprite_holds_each_picture_shrunk_by_area_averaging():
    rng = np.random.default_rng(2)
    pictures = rng.random((5, 1, 96, 96))
    sheet, (th, tw) = sprite(pictures, 0.0, 1.0, largest=48, columns=4)
    assert (th, tw) == (48, 48) and sheet.shape == (2 * 48, 4 * 48, 4)
    shrunk = pictures.reshape(5, 1, 48, 2, 48, 2).mean(axis=(3, 5))  # 2 × 2 block means: the oracle
    expected = np.clip(shrunk[4, 0] * 255 + 0.5, 0, 255).astype(np.uint8)
    tile = sheet[48:96, 0:48, 0]  # the fifth picture: second row, first column
    assert np.abs(tile.astype(int) - expected.astype(int)).max() <= 1
    assert (sheet[48:96, 48:, :] == 0).all()  # empty places stay transparent


def test_display_maps_rgb_and_other_channel_counts():
    rgb = np.zeros((1, 3, 1, 1))
    rgb[0, 0] = 1.0
    assert display_rgba(rgb, 0.0, 1.0)[0, 0, 0].tolist() == [255, 0, 0, 255]
    two = np.stack([np.zeros((1, 1)), np.ones((1, 1))])[None]  # two channels: their mean, as grey
    assert display_rgba(two, 0.0, 1.0)[0, 0, 0].tolist() == [128, 128, 128, 255]


def test_predict_takes_a_batch_of_pictures_in_their_shapes(digits):
    images, _ = digits
    cnn = digits_cnn()
    s = nw.Inspector(cnn, images[:, 0])  # given grey (n, H, W)
    expected = model_probabilities(cnn, images[3:6])
    for batch in (images[3:6, 0], images[3:6], images[3:6].reshape(3, -1)):
        np.testing.assert_allclose(s.predict(batch), expected, rtol=1e-5, atol=1e-6)
