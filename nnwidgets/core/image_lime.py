"""LIME for one picture, through lime's own ``LimeImageExplainer``.

The picture is cut into superpixels by scikit-image's SLIC (parameters chosen by the picture's size, a
grid when SLIC finds too few), lime switches random subsets of them to black (the data's lowest pixel
value, as the other image explanations do) and fits its weighted ridge model to the class probabilities.
Everything is lime's own except its neighbourhood loop (``data_labels``), done here without its tqdm
bar (a worker thread would print it into the notebook) and with the masking vectorised: the random draws
are lime's, the pictures equal, and the tests compare with lime called directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from lime.lime_image import LimeImageExplainer
from skimage.segmentation import slic

from .images import ImageLayout

MIN_SEGMENTS = 4
VALUES_PER_BATCH = 2_000_000  # pixel values per call of the model: 13 pictures of 224 × 224 × 3


@dataclass(frozen=True)
class ImageLimeResult:
    """lime's explanation of class ``target`` at one picture.

    ``segments``: the superpixel id of each pixel (H, W), ids 0..k-1; ``weights[i]``: lime's weight of
    superpixel ``i`` (its ``local_exp[target]``, as an array indexed by id); ``intercept``, ``score`` (the
    ridge fit's R² on the weighted samples) and ``local_prediction`` are lime's; ``samples`` pictures were
    run through the model in ``seconds``; ``hidden_value`` is what a switched-off superpixel is filled with.

    >>> import numpy as np
    >>> layout = ImageLayout((1, 8, 8), "NHW", 0.0, 1.0)
    >>> picture = np.random.default_rng(0).random(64)
    >>> predict = lambda rows: np.stack([rows.mean(1), 1 - rows.mean(1)], axis=1)
    >>> r = explain_image_lime(layout, predict, picture, target=0, num_samples=200)
    >>> r.segments.shape, len(r.weights) == int(r.segments.max()) + 1, r.samples
    ((8, 8), True, 200)
    """

    segments: np.ndarray
    weights: np.ndarray
    intercept: float
    score: float
    target: int
    samples: int
    seconds: float
    local_prediction: float = float("nan")
    hidden_value: float = 0.0


def slic_settings(shape: tuple[int, int, int]) -> dict:
    """SLIC's arguments for pictures of ``shape`` (C, H, W), scaled to 0..1: about one superpixel per
    64 pixels (16 to 100 of them: 16 on an 8 × 8 digit, about 60 on a 224 × 224 photo); colour pictures
    are segmented in Lab (compactness 10), others on their values (compactness 0.1)."""
    c, h, w = shape
    colour = c == 3
    return dict(n_segments=int(np.clip(h * w // 64, 16, 100)), compactness=10.0 if colour else 0.1,
                channel_axis=-1 if c > 1 else None, start_label=0, convert2lab=colour)


def grid_segments(h: int, w: int, count: int) -> np.ndarray:
    """About ``count`` rectangles in a grid, numbered row by row from 0."""
    side = max(1, int(round(np.sqrt(h * w / max(1, count)))))
    rows, cols = np.arange(h) // side, np.arange(w) // side
    return rows[:, None] * (cols.max() + 1) + cols[None, :]


def segment_picture(hwc: np.ndarray, layout: ImageLayout) -> np.ndarray:
    """Superpixels of a picture as lime holds it (H, W, channels; grey arrives as three equal channels):
    SLIC on values scaled to 0..1, ids 0..k-1; a grid when SLIC finds fewer than 4 (a blank picture)."""
    c, h, w = layout.shape
    picture = hwc[..., 0] if c == 1 else hwc
    span = layout.high - layout.low if layout.high > layout.low else 1.0
    settings = slic_settings(layout.shape)
    segments = slic(np.clip((picture - layout.low) / span, 0.0, 1.0), **settings)
    if len(np.unique(segments)) < MIN_SEGMENTS:
        segments = grid_segments(h, w, settings["n_segments"])
    return np.unique(segments, return_inverse=True)[1].reshape(h, w)


def segmentation_function(layout: ImageLayout) -> Callable[[np.ndarray], np.ndarray]:
    """What lime's ``segmentation_fn`` gets: picture (H, W, channels) → superpixel ids (H, W)."""
    return lambda hwc: segment_picture(hwc, layout)


def lime_picture(picture: np.ndarray) -> np.ndarray:
    """A (C, H, W) picture as lime takes it: (H, W) for one channel (lime copies it into three), else (H, W, C)."""
    return picture[0] if picture.shape[0] == 1 else np.moveaxis(picture, 0, -1)


def rows_from_lime(batch: np.ndarray, layout: ImageLayout) -> np.ndarray:
    """lime's pictures (n, H, W, channels) back to the inspector's flat rows (n, C·H·W); a grey picture
    comes back from lime as three equal channels, the first is kept."""
    c = layout.channels
    chw = batch[..., :1] if c == 1 else batch
    return np.ascontiguousarray(np.moveaxis(chw, -1, 1)).reshape(len(batch), layout.size)


class QuietLimeImageExplainer(LimeImageExplainer):
    """lime's image explainer with its neighbourhood loop done without a tqdm bar and with the masks of a
    batch built at once: the same random draws (lime's ``random_state``) and the same pictures."""

    def data_labels(self, image, fudged_image, segments, classifier_fn, num_samples, batch_size=10):
        n_features = np.unique(segments).shape[0]
        data = self.random_state.randint(0, 2, num_samples * n_features).reshape((num_samples, n_features))
        data[0, :] = 1
        labels = []
        for start in range(0, num_samples, batch_size):
            hidden = (data[start:start + batch_size] == 0)[:, segments]
            if image.ndim == 3:
                hidden = hidden[..., None]
            labels.extend(classifier_fn(np.where(hidden, fudged_image, image)))
        return data, np.array(labels)


def lime_batch_size(layout: ImageLayout, num_samples: int) -> int:
    """Pictures per model call: about 2 million values, 10 to 100 of them (lime's default is 10)."""
    return int(np.clip(VALUES_PER_BATCH // layout.size, 10, 100)) if num_samples > 10 else max(1, num_samples)


def explain_image_lime(layout: ImageLayout, predict: Callable[[np.ndarray], np.ndarray], values: object, target: int,
                       num_samples: int = 1000, seed: int = 0, *, batch_size: int = 0,
                       progress: Callable[[float, str], None] | None = None,
                       check: Callable[[], None] | None = None) -> ImageLimeResult:
    """lime's explanation of class ``target`` of ``predict`` (flat rows → class probabilities, or
    regression values) at the picture ``values``, from ``num_samples`` pictures drawn with ``seed``.
    ``check()`` runs before each batch (it raises to stop), ``progress(fraction, text)`` after it."""
    started = time.perf_counter()
    if num_samples < 2:
        raise ValueError(f"num_samples must be at least 2; got {num_samples}")
    picture = layout.as_image(values)
    batch = int(batch_size) or lime_batch_size(layout, num_samples)
    done = 0

    def classifier(pictures: np.ndarray) -> np.ndarray:
        nonlocal done
        if check is not None:
            check()
        out = np.asarray(predict(rows_from_lime(pictures, layout)))
        if out.ndim == 1:  # regression: lime wants one column per label
            out = out[:, None]
        done += len(pictures)
        if progress is not None:
            progress(done / num_samples, f"LIME: {done:,} of {num_samples:,} pictures")
        return out

    explainer = QuietLimeImageExplainer(random_state=seed)
    explanation = explainer.explain_instance(
        lime_picture(picture), classifier, labels=(int(target),), hide_color=layout.low, top_labels=None,
        num_samples=int(num_samples), batch_size=batch, segmentation_fn=segmentation_function(layout),
        random_seed=seed)
    segments = np.asarray(explanation.segments)
    weights = np.zeros(int(segments.max()) + 1)
    for segment, weight in explanation.local_exp[int(target)]:
        weights[int(segment)] = weight
    return ImageLimeResult(segments, weights, float(explanation.intercept[int(target)]), float(explanation.score),
                           int(target), int(num_samples), time.perf_counter() - started,
                           float(np.ravel(explanation.local_pred)[0]), float(layout.low))
