"""ImageExplainer: a gallery of the images, the chosen one enlarged under an attribution overlay (saliency,
gradient × input, integrated gradients, occlusion, LIME superpixels), the prediction for the picture as
it is now, and a brush that paints on it: the painted picture is the inspector's ``values``."""

from __future__ import annotations

import zlib
from typing import Any, ClassVar

import numpy as np
import traitlets
from matplotlib.figure import Figure

from ._tabular import BINARY_FLOATS, TabularView
from ._view import View, inspector_for, static_file
from .core import encode_array
from .core.figures import new_figure
from .core.figures_explain import draw_prediction
from .core.gallery import ALL, ClassPredictions, PagePredictions, Predicted, arrange, candidates, page_of
from .core.image_tasks import METHODS, ImageAttribution, ImageAttributions, ImageLime, ImageLimeResult
from .core.images import display_rgba, sprite
from .core.tasks import RowPass, RowResult

EXPLANATIONS = (*METHODS, "lime")
COLORMAPS = ("RdBu_r", "PuOr_r", "BrBG")  # ColorBrewer's diverging maps rated colour-blind safe; positive: red, purple, teal
LUT_SIZE = 256
MAX_STEPS = 1024


def picture_digest(values: np.ndarray) -> str:
    """A short fingerprint of a picture's values (CRC-32 of the float64 bytes), the page computes the same."""
    return f"{zlib.crc32(np.ascontiguousarray(values, dtype='<f8').tobytes()):08x}"


def colormap_lut(name: str) -> np.ndarray:
    from matplotlib import colormaps

    rgba = colormaps[name].resampled(LUT_SIZE)(np.arange(LUT_SIZE))
    return np.round(rgba[:, :3] * 255).astype(np.uint8)


class Picture(traitlets.List):
    """The ``values`` trait: a flat list of floats, assignable as the picture in any shape the inspector
    takes ((C, H, W), (H, W) for one channel, channels-last when given so; arrays or nested lists)."""

    def validate(self, obj: Any, value: Any) -> Any:
        if not isinstance(value, list) or (value and isinstance(value[0], (list, tuple, np.ndarray))):
            value = obj._validated("values", value)
        return super().validate(obj, value)


class ImageExplainer(View):
    """Explain a model of images: pick an image in the gallery (paged, filtered by true or predicted
    class, misclassified first), see the model's prediction, an attribution overlay for the explained
    class (``method``: saliency, gradient × input, integrated gradients, occlusion, or LIME superpixels),
    and paint on the picture with the brush (undo, reset) to see both change. ``row``, ``values`` (the
    picture, maybe painted: assigning it from Python is painting) and ``target_class`` are the
    inspector's, shared with every view of it. Needs image data (``Inspector(model, images)``).

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_digits
        digits = load_digits()
        images = digits.images[:, None] / 16.0
        cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2),
                                  torch.nn.Flatten(), torch.nn.Linear(32, 10))
        s = nw.Inspector(cnn, images, y=digits.target, class_names=[str(d) for d in range(10)])
        ex = nw.ImageExplainer(s)
        ex.row = 5
        picture = s.current_image.copy(); picture[0, 2:6, 3] = 1.0
        ex.values = picture            # painting from Python
        ex.attribution.map.shape       # (8, 8): saliency for the predicted class
        ex.method = "lime"
        ex.lime.weights                # one weight per superpixel
    """

    _esm = static_file("image_explainer.js")
    _css = static_file("image_explainer.css")

    row = traitlets.Int(0, help="the image being explained").tag(sync=True)
    values = Picture(traitlets.Float(), help="the picture, flat (C, H, W), maybe painted").tag(sync=True, **BINARY_FLOATS)
    target_class = traitlets.Int(0, help="the explained class").tag(sync=True)
    follow_prediction = traitlets.Bool(True, help="explain the predicted class of the picture as it is now").tag(sync=True)

    method = traitlets.Enum(EXPLANATIONS, default_value="saliency", help="the overlay: " + ", ".join(EXPLANATIONS)).tag(sync=True)
    opacity = traitlets.Float(0.7, min=0.0, max=1.0, help="the overlay's opacity").tag(sync=True)
    colormap = traitlets.Enum(COLORMAPS, default_value=COLORMAPS[0], help="diverging, colour-blind safe").tag(sync=True)
    steps = traitlets.Int(32, help="integration steps of integrated gradients").tag(sync=True)
    window = traitlets.Int(0, help="occlusion window in pixels (0: chosen from the image size)").tag(sync=True)
    lime_samples = traitlets.Int(1000, help="perturbed pictures LIME fits its weights to").tag(sync=True)
    brush_size = traitlets.Int(1, help="brush diameter in image pixels").tag(sync=True)
    brush_value = traitlets.Float(1.0, help="the value the brush paints (erasing paints the data's lowest value)").tag(sync=True)

    page = traitlets.Int(0, help="gallery page").tag(sync=True)
    page_size = traitlets.Int(128, help="thumbnails per gallery page").tag(sync=True)
    true_class = traitlets.Int(ALL, help="gallery filter: images of this true class (-1: all)").tag(sync=True)
    predicted_class = traitlets.Int(ALL, help="gallery filter: images predicted as this class (-1: all)").tag(sync=True)
    misclassified_first = traitlets.Bool(False, help="gallery order: misclassified images first, most confident first").tag(sync=True)

    image = traitlets.Dict(read_only=True, help="shape (C, H, W), pixel range, number of images").tag(sync=True)
    label = traitlets.Int(-1, read_only=True, help="the true class of the chosen image (-1: unknown)").tag(sync=True)
    class_names = traitlets.List(traitlets.Unicode(), read_only=True).tag(sync=True)
    mode = traitlets.Unicode(read_only=True).tag(sync=True)
    output_kind = traitlets.Unicode(read_only=True).tag(sync=True)
    lut = traitlets.Dict(read_only=True).tag(sync=True)
    prediction = traitlets.Dict(read_only=True).tag(sync=True)
    overlay = traitlets.Dict(read_only=True).tag(sync=True)
    gallery = traitlets.Dict(read_only=True).tag(sync=True)
    gallery_predictions = traitlets.Dict(read_only=True).tag(sync=True)

    needs_data: ClassVar[bool] = True
    mirrors: ClassVar[tuple[str, ...]] = ("row", "values", "target_class")

    # The tabular views' helpers work unchanged on the flat picture.
    current = TabularView.current
    current_key = TabularView.current_key
    request_current = TabularView.request_current
    _describe_outputs = TabularView._describe_outputs

    def __init__(self, source: Any, X: Any = None, **kwargs: Any) -> None:
        inspector = inspector_for(self, source, X, kwargs)
        inspector.require_data(type(self).__name__)
        if inspector.image is None:
            raise TypeError("ImageExplainer needs image data: build the inspector as Inspector(model, images) with images "
                            "of shape (n, C, H, W), (n, H, W) or (n, H, W, C); this one holds a table "
                            f"({inspector.data.n_rows} rows × {inspector.data.n_features} features)")
        self._attribution: ImageAttributions | None = None
        self._lime: ImageLimeResult | None = None
        self._prediction: np.ndarray | None = None
        self._moving_target = False
        self._page_rows: np.ndarray | None = None  # the thumbnails on the page now
        layout = inspector.image
        kwargs.setdefault("brush_value", layout.high)
        super().__init__(inspector, **kwargs)
        with self.hold_sync():
            self.set_trait("image", {"shape": list(layout.shape), "low": layout.low, "high": layout.high,
                                     "images": self.inspector.data.n_rows, "labelled": self.inspector.labels is not None})
            self.set_trait("lut", encode_array(colormap_lut(self.colormap)))
            self._describe_outputs()

    def _update_safely(self, changes: set[str]) -> None:
        if "model" in changes and self.mode:
            self._describe_outputs()
        super()._update_safely(changes)

    # -- options --------------------------------------------------------------------------------------
    @traitlets.validate("steps", "lime_samples", "brush_size", "page_size", "window")
    def _check_counts(self, proposal: dict) -> int:
        name, value = proposal["trait"].name, proposal["value"]
        least = {"steps": 2, "lime_samples": 10, "brush_size": 1, "page_size": 1, "window": 0}[name]
        if value < least:
            raise traitlets.TraitError(f"{name} must be at least {least}, got {value}")
        if name == "steps" and value > MAX_STEPS:  # one integrated-gradients run cannot be stopped halfway
            raise traitlets.TraitError(f"steps must be at most {MAX_STEPS}, got {value}")
        return value

    @traitlets.validate("brush_value")
    def _check_brush_value(self, proposal: dict) -> float:
        if not np.isfinite(proposal["value"]):
            raise traitlets.TraitError("brush_value must be a finite number")
        return proposal["value"]

    @traitlets.validate("true_class", "predicted_class")
    def _check_filter(self, proposal: dict) -> int:
        value, n = proposal["value"], len(self.inspector.class_names)
        if value != ALL and not 0 <= value < n:
            raise traitlets.TraitError(f"{proposal['trait'].name} must be -1 (all) or a class 0..{n - 1}, got {value}")
        if proposal["trait"].name == "true_class" and value != ALL and self.inspector.labels is None:
            raise traitlets.TraitError("filtering by true class needs labels: pass y= to the inspector")
        return value

    @traitlets.validate("misclassified_first")
    def _check_misclassified(self, proposal: dict) -> bool:
        if proposal["value"] and self.inspector.labels is None:
            raise traitlets.TraitError("misclassified_first needs labels: pass y= to the inspector")
        return proposal["value"]

    @traitlets.observe("method", "steps", "window", "lime_samples")
    def _on_method(self, _: dict) -> None:
        if self._ready:
            self._update_safely({"options"})

    @traitlets.observe("follow_prediction")
    def _on_follow(self, change: dict) -> None:
        if self._ready and change["new"] and self._prediction is not None:
            self._follow_prediction(self._prediction)

    @traitlets.observe("colormap")
    def _on_colormap(self, change: dict) -> None:
        self.set_trait("lut", encode_array(colormap_lut(change["new"])))

    @traitlets.observe("true_class", "predicted_class", "misclassified_first", "page_size")
    def _on_filter(self, change: dict) -> None:
        if not self._ready:
            return
        if self.page != 0:
            self.page = 0  # a new filter or page size starts on its first page (and redraws through _on_page)
        else:
            self._update_safely({"gallery"})

    @traitlets.observe("page")
    def _on_page(self, _: dict) -> None:
        if self._ready:
            self._update_safely({"gallery"})

    def on_message(self, content: dict) -> None:
        if content.get("event") == "reset":
            self.reset()

    def reset(self) -> None:
        """Put the chosen image's own picture back (undo every stroke)."""
        self.inspector.values = self.inspector.data.X[self.inspector.row]

    # -- what to compute ------------------------------------------------------------------------------
    @property
    def _target(self) -> int:
        return self.inspector.target_class if self.inspector.mode == "classification" else 0

    def update(self, changes: set[str]) -> None:
        if "row" in changes or "model" in changes:
            labels = self.inspector.labels
            self.set_trait("label", int(labels[self.inspector.row]) if labels is not None and self.inspector.mode == "classification" else -1)
        if "target_class" in changes and not self._moving_target and self._prediction is not None:
            if self.follow_prediction and self.inspector.target_class != int(np.argmax(self._prediction)):
                self.follow_prediction = False  # a class chosen elsewhere (another view, Python): keep it
        if changes & {"values", "model"}:
            self.request_current("prediction", lambda values: RowPass(values), self._show_prediction)
        if changes & {"values", "target_class", "model", "options"}:
            self._request_explanation()
        if changes & {"gallery", "model"}:
            self._request_gallery()

    def _request_explanation(self) -> None:
        target = self._target
        if self.method == "lime":
            samples = self.lime_samples
            self.request_current("explanation", lambda values: ImageLime(values, target, samples, 0), self._show_lime)
        else:
            method, steps, window = self.method, self.steps, self.window
            self.request_current("explanation", lambda values: ImageAttribution(values, target, method, steps, window),
                                 self._show_attribution)

    def _show_prediction(self, result: RowResult, values: np.ndarray) -> None:
        self._prediction = result.prediction
        self.set_trait("prediction", {"values": encode_array(result.prediction), "for": picture_digest(values)})
        self._follow_prediction(result.prediction)

    def _follow_prediction(self, prediction: np.ndarray) -> None:
        if self.follow_prediction and self.inspector.mode == "classification":
            k = int(np.argmax(prediction))
            if k != self.inspector.target_class:
                self._moving_target = True
                try:
                    self.inspector.target_class = k
                finally:
                    self._moving_target = False

    def _show_attribution(self, result: ImageAttributions, values: np.ndarray) -> None:
        self._attribution = result
        a = np.asarray(result.map, dtype=np.float64)
        self.set_trait("overlay", {
            "kind": "attribution", "method": result.method, "target": int(result.target),
            "map": encode_array(a.astype(np.float32)), "limit": float(np.abs(a).max()) if a.size else 0.0,
            "delta": None if result.delta is None else float(result.delta), "output": str(result.output),
            "settings": str(getattr(result, "settings", "")), "space": str(getattr(result, "space", "")),
            "seconds": float(result.seconds), "for": picture_digest(values),
        })

    def _show_lime(self, result: ImageLimeResult, values: np.ndarray) -> None:
        self._lime = result
        weights = np.asarray(result.weights, dtype=np.float64)
        self.set_trait("overlay", {
            "kind": "lime", "method": "lime", "target": int(result.target),
            "segments": encode_array(np.asarray(result.segments, dtype=np.int32)), "weights": encode_array(weights),
            "limit": float(np.abs(weights).max()) if weights.size else 0.0, "intercept": float(result.intercept),
            "score": float(result.score), "samples": int(result.samples), "seconds": float(result.seconds),
            "for": picture_digest(values),
        })

    # -- the gallery ----------------------------------------------------------------------------------
    def _request_gallery(self) -> None:
        ins = self.inspector
        if self.predicted_class != ALL or self.misclassified_first:
            true_class, predicted_class, first, page, size = (self.true_class, self.predicted_class, self.misclassified_first,
                                                              self.page, self.page_size)

            def arranged(result: Predicted) -> None:
                self._show_page(arrange(result, ins.labels, predicted_class, first), page, size, result)

            self.withdraw("page predictions")
            self.request("gallery", ClassPredictions(true_class), arranged)
        else:
            self.withdraw("gallery")
            rows = self._show_page(candidates(ins.labels, ins.data.n_rows, self.true_class), self.page, self.page_size)
            self.request("page predictions", PagePredictions(tuple(rows.tolist())), self._show_page_predictions)

    def _show_page(self, rows: np.ndarray, page: int, size: int, predicted: Predicted | None = None) -> np.ndarray:
        shown, page, pages = page_of(rows, page, size)
        ins = self.inspector
        if self._page_rows is not None and np.array_equal(shown, self._page_rows) and self.gallery.get("total") == len(rows):
            if predicted is not None:  # the same thumbnails (the model changed): only the predictions are new
                self._show_page_predictions(predicted, shown)
            return shown
        self._page_rows = shown
        layout = ins.image
        sheet, tile = sprite(ins.images(shown), layout.low, layout.high) if len(shown) else (np.zeros((0, 0, 4), np.uint8), (1, 1))
        labels = ins.labels
        with self.hold_sync():
            self.set_trait("gallery", {
                "sprite": encode_array(sheet), "tile": list(tile), "columns": int(sheet.shape[1] // tile[1]) if len(shown) else 1,
                "rows": encode_array(shown.astype(np.int32)),
                "labels": None if labels is None or ins.mode != "classification" else encode_array(labels[shown].astype(np.int32)),
                "page": page, "pages": pages, "total": int(len(rows)),
            })
            if predicted is not None:
                self._show_page_predictions(predicted, shown)
        return shown

    def _show_page_predictions(self, result: Predicted, shown: np.ndarray | None = None) -> None:
        if shown is not None:  # the page's rows out of predictions for more (sorted) rows
            where = np.searchsorted(result.rows, shown)
            result = Predicted(shown, result.predicted[where], result.confidence[where])
        self.set_trait("gallery_predictions", {
            "rows": encode_array(np.asarray(result.rows, dtype=np.int32)),
            "predicted": encode_array(np.asarray(result.predicted, dtype=np.int32)),
            "confidence": encode_array(np.asarray(result.confidence, dtype=np.float32)),
        })

    # -- for Python -----------------------------------------------------------------------------------
    def describe_failure(self, name: str) -> str:
        return {"prediction": "prediction failed", "explanation": f"{self.method} failed",
                "gallery": "ordering the gallery failed", "page predictions": "predicting the gallery's images failed"}.get(name, f"{name} failed")

    @property
    def attribution(self) -> ImageAttributions | None:
        """The attribution map shown for the current picture and class (waits for it). With
        ``method="lime"``, saliency, computed now."""
        self.wait()
        if self.method == "lime":
            return self.inspector.compute(ImageAttribution(self.current_key, self._target, "saliency", self.steps, self.window))
        return self._attribution

    @property
    def lime(self) -> ImageLimeResult | None:
        """LIME's superpixel weights for the current picture and class (waits for them; computed now
        when the overlay shows another method)."""
        self.wait()
        if self.method != "lime":
            return self.inspector.compute(ImageLime(self.current_key, self._target, self.lime_samples, 0))
        return self._lime

    @property
    def prediction_values(self) -> np.ndarray:
        """The model's prediction for the current picture (class probabilities)."""
        self.wait()
        return self._prediction

    def figure(self) -> Figure:
        """The picture, the overlay and the prediction bars as a matplotlib Figure."""
        self.ready_to_draw()
        if self._prediction is None:
            raise ValueError("ImageExplainer has nothing to draw yet: no prediction for the current picture")
        ins = self.inspector
        layout = ins.image
        picture = display_rgba(ins.current_image[None], layout.low, layout.high)[0]
        fig = new_figure(11, 3.6)
        ax_picture, ax_overlay, ax_bars = fig.subplots(1, 3, width_ratios=[1, 1, 1.3])
        ax_picture.imshow(picture, interpolation="nearest")
        ax_picture.set_title(f"image {ins.row}" + (f" (true: {ins.class_names[self.label]})" if self.label >= 0 else ""), fontsize=9)
        ax_overlay.imshow(picture, interpolation="nearest")
        if self.method == "lime":
            result = self.lime
            weights = np.asarray(result.weights, dtype=np.float64)
            heat = weights[np.asarray(result.segments)]
            ax_overlay.contour(np.asarray(result.segments), levels=np.unique(result.segments)[:-1] + 0.5, colors="#333333", linewidths=0.6)
        else:
            heat = np.asarray(self.attribution.map, dtype=np.float64)
        limit = float(np.abs(heat).max()) or 1.0
        ax_overlay.imshow(heat, cmap=self.colormap, vmin=-limit, vmax=limit, alpha=self.opacity, interpolation="nearest")
        target = ins.class_names[self._target] if ins.mode == "classification" else "the output"
        ax_overlay.set_title(f"{self.method.replace('_', ' ')} for {target}", fontsize=9)
        for ax in (ax_picture, ax_overlay):
            ax.set_xticks([])
            ax.set_yticks([])
        draw_prediction(ax_bars, self._prediction, ins.class_names, ins.mode, self._target)
        return fig
