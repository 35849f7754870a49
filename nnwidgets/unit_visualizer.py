"""UnitVisualizer: a picture optimised by gradient ascent to excite one channel, unit or class of the model."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import traitlets
from matplotlib.figure import Figure

from ._view import View, inspector_for, static_file
from .core import Inspector, encode_array
from .core.figures import new_figure
from .core.images import display_rgba, is_image_data
from .core.unit_visualizer import OUTPUT, AscentOptions, UnitAscent, UnitAscentResult, find_target, normal_layer, unit_targets

OPTIONS = ("layer", "unit", "steps", "lr", "l2", "blur_every", "blur_sigma", "jitter", "seed")


class TargetError(traitlets.TraitError, ValueError):
    """An unknown layer, or a unit out of its range (a ``ValueError`` as well as a ``TraitError``)."""


class UnitVisualizer(View):
    """What excites one unit of a convolutional network: a picture optimised from seeded noise by gradient
    ascent on the target's activation, through the inspector's read-only shadow (the model is never run,
    hooked or given gradients). The target is channel ``unit`` of ``layer`` (the mean of its map), a unit of
    a layer with units (a Linear layer's output), or, with ``layer`` "" (or "output"), class ``unit``'s
    logit. Without ``layer`` it follows the inspector's ``selected_layer`` (while that layer has units);
    changing ``layer`` to one with fewer units resets ``unit`` to 0.

    The settings: ``steps``; ``lr`` (Adam's step as a share of the pixel range); ``l2`` (each step the
    picture decays toward the middle of the range by that share); a Gaussian blur of ``blur_sigma`` pixels
    every ``blur_every`` steps (0: never); ``jitter`` (each step the picture is rolled by up to that many
    pixels); ``seed`` (the starting noise and the jitter). Pixels stay in the data's range; a ``preprocess``
    must compute in torch (see ``nnwidgets.core.unit_visualizer``). Setting any of them from Python runs
    again; in the page they are sent with "run". The page shows the picture, the target's activation per
    step, and the mean over up to 256 real pictures as a reference with the ratio.

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_digits
        digits = load_digits()
        images = digits.images[:, None] / 16.0            # (n, 1, 8, 8) in [0, 1]
        torch.manual_seed(0)
        cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                  torch.nn.Flatten(), torch.nn.Linear(128, 10))
        s = nw.Inspector(cnn, images, class_names=[str(d) for d in range(10)])
        uv = nw.UnitVisualizer(s, layer="0", unit=5)
        r = uv.result
        r.image.shape, bool(r.final > r.activations[0])   # ((1, 8, 8), True)
        uv.layer, uv.unit = "", 3                       # class 3's logit
        uv.result.target_description                    # 'class 3: its logit'
    """

    _esm = static_file("unit_visualizer.js")
    _css = static_file("unit_visualizer.css")

    layer = traitlets.Unicode("", help="the layer whose unit is excited ('' or 'output': the model's output, classes)").tag(sync=True)
    unit = traitlets.Int(0, help="the channel, unit or class index").tag(sync=True)
    steps = traitlets.Int(128, help="gradient ascent steps").tag(sync=True)
    lr = traitlets.Float(0.05, help="Adam's learning rate, as a share of the pixel range").tag(sync=True)
    l2 = traitlets.Float(1e-3, help="decay toward mid-grey per step (L2 weight decay on the picture)").tag(sync=True)
    blur_every = traitlets.Int(4, help="blur the picture every this many steps (0: never)").tag(sync=True)
    blur_sigma = traitlets.Float(0.5, help="the blur's Gaussian sigma in pixels").tag(sync=True)
    jitter = traitlets.Int(1, help="roll the picture by up to this many pixels each step").tag(sync=True)
    seed = traitlets.Int(0, help="seed of the starting noise and the jitter").tag(sync=True)
    layers = traitlets.List(read_only=True).tag(sync=True)
    ascent = traitlets.Dict(read_only=True).tag(sync=True)

    needs_data: ClassVar[bool] = True

    def __init__(self, source: Any, X: Any = None, **kwargs: Any) -> None:
        if not isinstance(source, Inspector) and X is not None and not is_image_data(X):
            raise TypeError(f"UnitVisualizer needs images (n, C, H, W), (n, H, W) or (n, H, W, C); got X with {np.ndim(X)} axes")
        self._result: UnitAscentResult | None = None
        self._adopting = False
        inspector = inspector_for(self, source, X, kwargs)
        inspector.require_data("UnitVisualizer")
        if inspector.image is None:
            raise TypeError("UnitVisualizer needs image data: build the inspector as Inspector(model, images) with images "
                            "of shape (n, C, H, W), (n, H, W) or (n, H, W, C)")
        self._following_selection = "layer" not in kwargs
        if self._following_selection:
            kwargs["layer"] = self._layer_of(inspector, inspector.selected_layer)
        super().__init__(inspector, **kwargs)

    # -- the target -------------------------------------------------------------------------------
    @staticmethod
    def _layer_of(ins: Inspector, selected: str) -> str:
        """The inspector's selected layer if it has units, else the model's output."""
        try:
            return selected if any(t.layer == selected for t in unit_targets(ins)) else OUTPUT
        except Exception:  # noqa: BLE001 - a model that cannot run: the error shows when the ascent runs
            return OUTPUT

    def _units(self, layer: str) -> int | None:
        try:
            targets = unit_targets(self.inspector)
        except Exception:  # noqa: BLE001 - shapes unknown (the model cannot run): nothing to check against
            return None
        return next((t.units for t in targets if t.layer == layer), None)

    @traitlets.validate("layer")
    def _check_layer(self, proposal: dict) -> str:
        try:
            layer = normal_layer(self.inspector, proposal["value"])
            find_target(self.inspector, layer, 0)
        except (TypeError, ValueError) as error:
            raise TargetError(str(error)) from None
        return layer

    @traitlets.validate("unit")
    def _check_unit(self, proposal: dict) -> int:
        unit = proposal["value"]
        layer = normal_layer(self.inspector, self.layer)
        units = self._units(layer)
        if unit < 0 or (units is not None and unit >= units):
            raise TargetError(f"unit must be 0..{(units or 1) - 1} for {'the output' if not layer else 'layer ' + repr(layer)}; got {unit}")
        return unit

    @traitlets.validate("steps", "lr", "l2", "blur_every", "blur_sigma", "jitter")
    def _check_option(self, proposal: dict) -> Any:
        name, value = proposal["trait"].name, proposal["value"]
        bad = {"steps": not 1 <= value <= 100_000, "lr": not 0 < value < np.inf, "l2": not 0 <= value < 1,
               "blur_every": value < 0, "blur_sigma": not 0 <= value < np.inf, "jitter": value < 0}[name]
        if bad:
            raise traitlets.TraitError(f"{name} out of range: {value} (steps 1..100000, finite lr > 0, 0 ≤ l2 < 1, "
                                       f"blur_every ≥ 0, finite blur_sigma ≥ 0, jitter ≥ 0)")
        return value

    @traitlets.observe("layer")
    def _on_layer(self, change: dict) -> None:
        if not self._adopting and self._ready:
            self._following_selection = False  # chosen by hand: the view stops following the inspector
        units = self._units(change["new"])
        if units is not None and self.unit >= units:
            self.unit = 0

    @traitlets.observe(*OPTIONS)
    def _on_options(self, _: dict) -> None:
        if self._ready and not self._adopting:
            self._update_safely({"options"})

    # -- following the selection ------------------------------------------------------------------
    def update(self, changes: set[str]) -> None:
        if "model" in changes:
            self.set_trait("layers", [{"name": t.layer, "type": t.type, "units": t.units, "kind": t.kind}
                                      for t in unit_targets(self.inspector)])
        if "selected_layer" in changes and self._following_selection:
            layer = self._layer_of(self.inspector, self.inspector.selected_layer)
            if layer != self.layer:
                self._adopting = True
                try:
                    self.layer = layer
                finally:
                    self._adopting = False
                changes = changes | {"options"}
        if changes & {"options", "model"}:
            self.run()

    def run(self) -> None:
        """Run the ascent for the current settings (a newer run replaces one still running)."""
        task = UnitAscent(self.layer, self.unit, AscentOptions(self.steps, self.lr, self.l2, self.blur_every, self.blur_sigma,
                                                               self.jitter, self.seed))
        self.request("ascent", task, self._show)

    def on_message(self, content: dict) -> None:
        if content.get("event") == "run":
            self._update_safely({"options"})

    def _show(self, result: UnitAscentResult) -> None:
        self._result = result
        image = self.inspector.image
        self.set_trait("ascent", {
            "layer": result.layer, "unit": result.unit, "target": result.target_description,
            "image": encode_array(result.image.astype(np.float32)), "low": image.low, "high": image.high,
            "activations": encode_array(result.activations), "final": result.final,
            "mean": result.mean_over_data, "rows": result.probe_rows, "seconds": result.seconds,
        })

    # -- reading it from Python -------------------------------------------------------------------
    @property
    def result(self) -> UnitAscentResult | None:
        """The optimised picture and its curve for the current settings (waits for them)."""
        self.wait()
        return self._result

    def describe_failure(self, name: str) -> str:
        return "gradient ascent failed" if name == "ascent" else f"{name} failed"

    def figure(self) -> Figure:
        """The optimised picture beside the target's activation per step, with the mean over real pictures."""
        self.ready_to_draw()
        r, image = self._result, self.inspector.image
        fig = new_figure(8, 3.2)
        ax_image, ax_curve = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.6]})
        ax_image.imshow(display_rgba(r.image[None], image.low, image.high)[0], interpolation="nearest")
        ax_image.set_xticks([])
        ax_image.set_yticks([])
        ax_image.set_title(r.target_description, fontsize=9)
        ax_curve.plot(np.arange(1, len(r.activations) + 1), r.activations, color="#d6604d", label="optimised picture")
        ax_curve.axhline(r.mean_over_data, color="#888888", linestyle="--", linewidth=1, label=f"mean over {r.probe_rows} real pictures")
        ax_curve.set_xlabel("step", fontsize=8)
        ax_curve.set_ylabel("activation", fontsize=8)
        ax_curve.tick_params(labelsize=8)
        ax_curve.legend(fontsize=7, loc="lower right")
        ratio = r.ratio
        ax_curve.set_title(f"{ratio:.3g}× the mean over {r.probe_rows} real pictures" if ratio is not None else
                           f"final {r.final:.3g}, mean over {r.probe_rows} real pictures {r.mean_over_data:.3g}", fontsize=9)
        return fig
