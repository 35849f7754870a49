"""InputEditor: pick a row, tweak its features with sliders, see the model's prediction live."""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets
from matplotlib.figure import Figure

from ._tabular import TabularView
from ._view import static_file
from .core import decode_array, encode_array
from .core.figures import new_figure
from .core.figures_explain import draw_prediction
from .core.tasks import RowPass, RowResult


class InputEditor(TabularView):
    """Row chooser (slider, ← →, "random"), one slider and number box per feature, a reset to the
    original row, and the model's prediction for the current values (class probabilities as bars,
    or the regression output). Its ``row``, ``values`` and ``target_class`` are its inspector's, so
    every other view of the inspector follows the editor.

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_iris
        iris = load_iris()
        net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        s = nw.Inspector(net, iris.data, feature_names=iris.feature_names, class_names=iris.target_names)
        editor = nw.InputEditor(s)
        s.row = 17
        editor.values = [6.0, 3.0, 4.5, 1.5]     # what-if (the same as s.values = ...)
        editor.prediction_values                 # the three class probabilities
    """

    _esm = static_file("input_editor.js")
    _css = static_file("input_editor.css")

    prediction = traitlets.Dict(read_only=True).tag(sync=True)
    original_values = traitlets.Dict(read_only=True, help="the chosen row as in X").tag(sync=True)

    def on_message(self, content: dict) -> None:
        if content.get("event") == "reset":
            self.reset()

    def reset(self) -> None:
        """Put the current row's original values back."""
        self.inspector.values = self.data.X[self.inspector.row]

    def update(self, changes: set[str]) -> None:
        if "row" in changes or "model" in changes:
            self.set_trait("original_values", encode_array(self.data.X[self.inspector.row]))
        if changes & {"values", "model"}:
            values = self.current

            def show(result: RowResult) -> None:
                self.set_trait("prediction", {"values": encode_array(result.prediction), "for_values": encode_array(values)})

            self.request("prediction", RowPass(tuple(values.tolist())), show)

    def describe_failure(self, name: str) -> str:
        return "prediction failed"

    @property
    def prediction_values(self) -> np.ndarray:
        """The prediction shown: class probabilities, or the one regression output."""
        self.wait()
        return decode_array(self.prediction["values"])

    def figure(self) -> Figure:
        """The prediction for the current values as a matplotlib Figure."""
        fig = new_figure(5, 0.8 + 0.3 * max(len(self.class_names), 1))
        draw_prediction(fig.add_subplot(), self.prediction_values, self.class_names, self.mode, self.target_class)
        return fig
