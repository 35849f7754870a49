"""InputEditor: pick a row, tweak its features with sliders, see the model's prediction live."""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets
from matplotlib.figure import Figure

from ._tabular_widget import TabularWidget
from ._widget import static_file
from .core import decode_array, encode_array
from .core.figures import new_figure
from .core.figures_explain import draw_prediction


class InputEditor(TabularWidget):
    """Row chooser (slider, ← →, "random"), one slider and number box per feature, a reset to the
    original row, and the model's prediction for the current values (class probabilities as
    bars, or the regression output). ``row`` and ``values`` are the selection other explanation
    widgets follow.

    Example::

        import torch, nnwidgets as nw
        from sklearn.datasets import load_iris
        iris = load_iris()
        net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        editor = nw.InputEditor(net, iris.data, feature_names=iris.feature_names, class_names=iris.target_names)
        editor.row = 17
        editor.values = [6.0, 3.0, 4.5, 1.5]     # what-if
        editor.prediction_values                 # the three class probabilities
    """

    _esm = static_file("input_editor.js")
    _css = static_file("input_editor.css")

    prediction = traitlets.Dict(read_only=True).tag(sync=True)
    original_values = traitlets.Dict(read_only=True, help="the chosen row as in X").tag(sync=True)

    def __init__(self, model: Any, X: Any, **kwargs: Any) -> None:
        super().__init__(model, X, **kwargs)
        self.on_msg(self._on_message)

    def _on_message(self, _widget: Any, content: dict, _buffers: list) -> None:
        if content.get("event") == "reset":
            self.reset()

    def reset(self) -> None:
        """Put the current row's original values back."""
        self.values = self.data.X[self.row].tolist()

    def update(self) -> None:
        self.set_trait("original_values", encode_array(self.data.X[self.row]))
        try:
            out = np.atleast_1d(self.predict(self.current[None, :])[0])
        except Exception as error:
            self._set_error(f"prediction failed: {error}")
            return
        self._set_error("")
        self.set_trait("prediction", {"values": encode_array(out), "for_values": encode_array(self.current)})

    @property
    def prediction_values(self) -> np.ndarray:
        """The prediction shown: class probabilities, or the one regression output."""
        return decode_array(self.prediction["values"])

    def figure(self) -> Figure:
        """The prediction for the current values as a matplotlib Figure."""
        fig = new_figure(5, 0.8 + 0.3 * max(len(self.class_names), 1))
        draw_prediction(fig.add_subplot(), self.prediction_values, self.class_names, self.mode, self.target_class)
        return fig
