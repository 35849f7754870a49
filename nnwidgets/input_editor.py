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
from .core.importance import METRICS
from .core.tasks import Attribution, Importance, RowPass, RowResult

SORTS = ("data", "attribution", "importance")


class InputEditor(TabularView):
    """Row chooser (slider, ← →, "random"), one slider and number box per feature — with a search box,
    an order (``sort_by``: data, |attribution| here, importance) and only the rows in view in the page,
    so 500 features stay quick — a reset to the original row, and the model's prediction for the
    current values (class probabilities as bars, or the regression output). Its ``row``, ``values`` and ``target_class`` are its inspector's, so
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
    sort_by = traitlets.Enum(SORTS, default_value="data", help="feature order: data, |attribution| for the current values, or permutation importance").tag(sync=True)
    ranking = traitlets.Dict(read_only=True, help="the features in the order sort_by asks for").tag(sync=True)

    def on_message(self, content: dict) -> None:
        if content.get("event") == "reset":
            self.reset()

    def reset(self) -> None:
        """Put the current row's original values back."""
        self.inspector.values = self.data.X[self.inspector.row]

    @traitlets.observe("sort_by")
    def _on_sort(self, _: dict) -> None:
        if self._ready:
            self._update_safely({"sort"})

    def update(self, changes: set[str]) -> None:
        self._request_ranking(changes)
        if "row" in changes or "model" in changes:
            self.set_trait("original_values", encode_array(self.data.X[self.inspector.row]))
        if changes & {"values", "model"}:
            values = self.current

            def show(result: RowResult) -> None:
                self.set_trait("prediction", {"values": encode_array(result.prediction), "for_values": encode_array(values)})

            self.request("prediction", RowPass(tuple(values.tolist())), show)

    def _request_ranking(self, changes: set[str]) -> None:
        """The order the list shows: the shared attributions (the Attributions view's defaults) or
        permutation importance (the Importance view's), computed once for both views."""
        def show(order: np.ndarray) -> None:
            self.set_trait("ranking", {"by": self.sort_by, "order": encode_array(order.astype(np.int32))})

        if self.sort_by == "attribution" and changes & {"values", "target_class", "model", "sort"}:
            target = self.inspector.target_class if self.data.mode == "classification" else 0
            self.request_current("ranking", lambda values: Attribution(values, target, "mean", "logit", 50),
                                 lambda result, _values: show(np.argsort(-np.abs(result.values[2]), kind="stable")))
        elif self.sort_by == "importance" and changes & {"model", "sort"}:
            metric = METRICS[self.data.mode][0]
            self.request("ranking", Importance(metric, 5), lambda result: show(np.argsort(-result.mean, kind="stable")))

    def describe_failure(self, name: str) -> str:
        return "ordering the features failed" if name == "ranking" else "prediction failed"

    @property
    def prediction_values(self) -> np.ndarray:
        """The prediction shown: class probabilities, or the one regression output."""
        self.wait()
        return decode_array(self.prediction["values"])

    def figure(self) -> Figure:
        """The prediction for the current values as a matplotlib Figure."""
        self.ready_to_draw()
        fig = new_figure(5, 0.8 + 0.3 * max(len(self.class_names), 1))
        draw_prediction(fig.add_subplot(), self.prediction_values, self.class_names, self.mode, self.target_class)
        return fig
