"""What the views of tabular data share: the row, the feature values and the explained class, all
the inspector's; feature names, ranges and class names sent once; values as a float64 buffer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import traitlets

from ._view import View
from .core import decode_array, encode_array
from .core.tabular import Tabular, feature_ranges
from .core.tasks import Task


def _floats_to_json(value: Sequence[float], _widget: Any) -> dict:
    return encode_array(np.asarray(value, dtype=np.float64))


def _floats_from_json(payload: dict | list, _widget: Any) -> list[float]:
    if isinstance(payload, list):
        return [float(v) for v in payload]
    return [float(v) for v in decode_array(payload)]


# The `values` trait is a Python list for users; on the wire it is a float64 buffer.
BINARY_FLOATS = {"to_json": _floats_to_json, "from_json": _floats_from_json}


def feature_payload(data: Tabular, ranges: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict:
    """Names and slider ranges per feature; steps are 1 for integer-valued columns."""
    lo, hi, step = ranges
    return {
        "names": list(data.feature_names),
        "min": encode_array(lo),
        "max": encode_array(hi),
        "step": encode_array(step),
        "rows": int(data.X.shape[0]),
    }


class TabularView(View):
    """A view of an inspector with data: ``row``, ``values`` and ``target_class`` are the inspector's
    (set them here or on the inspector: every view of it follows)."""

    row = traitlets.Int(0, help="the row of X being explained").tag(sync=True)
    values = traitlets.List(traitlets.Float(), help="current feature values (the row, maybe edited)").tag(sync=True, **BINARY_FLOATS)
    target_class = traitlets.Int(0, help="index of the explained class (classification)").tag(sync=True)
    features = traitlets.Dict(read_only=True).tag(sync=True)
    class_names = traitlets.List(traitlets.Unicode(), read_only=True).tag(sync=True)
    mode = traitlets.Unicode(read_only=True).tag(sync=True)
    output_kind = traitlets.Unicode(read_only=True, help="what the model outputs, and how that was decided").tag(sync=True)

    needs_data: ClassVar[bool] = True
    mirrors: ClassVar[tuple[str, ...]] = ("row", "values", "target_class")
    # Whether the page needs each feature's name and range when the features are a picture's pixels
    # (an editor with a slider per pixel does; a view that draws layers does not, and for a 224 × 224 × 3
    # picture that would be 150,528 names and three float64 buffers sent for nothing).
    pixel_features: ClassVar[bool] = True

    def __init__(self, source: Any, X: Any = None, **kwargs: Any) -> None:
        super().__init__(source, X, **kwargs)
        image = self.inspector.image
        if image is not None and not self.pixel_features:
            self.set_trait("features", {"rows": int(self.inspector.data.X.shape[0]), "image": list(image.shape)})
        else:
            ranges = self.inspector.memo("feature ranges", lambda: feature_ranges(self.inspector.data.X))
            self.set_trait("features", self.inspector.memo("feature payload", lambda: feature_payload(self.inspector.data, ranges)))
        self._describe_outputs()

    def _describe_outputs(self) -> None:
        """Mode, class names and output kind: decided again by the inspector when the model's structure changes."""
        data, kind = self.inspector.data, self.inspector.output_kind
        with self.hold_sync():
            self.set_trait("mode", data.mode)
            self.set_trait("class_names", list(data.class_names))
            self.set_trait("output_kind", f"{kind.kind}: {kind.reason}")

    def _update_safely(self, changes: set[str]) -> None:
        if "model" in changes and self.mode:
            self._describe_outputs()
        super()._update_safely(changes)

    @property
    def data(self) -> Tabular:
        return self.inspector.data

    @property
    def current(self) -> np.ndarray:
        """The current feature values as a float64 array."""
        return self.inspector.values

    @property
    def current_key(self) -> tuple[float, ...]:
        return tuple(self.inspector.values.tolist())

    def request_current(self, name: str, make_task: Callable[[tuple[float, ...]], Task],
                        deliver: Callable[[Any, np.ndarray], None]) -> None:
        """Request ``make_task(current values)``, delivered with those values. Safe from a worker
        thread: if the values moved while asking, it asks again, so the newest values win."""
        while True:
            key = self.current_key
            self.request(name, make_task(key), lambda result, v=np.array(key): deliver(result, v))
            if self.current_key == key:
                return


class FittedView(TabularView):
    """A view of a slow fit (one per model version, class and options: ``fit_task``) and of a quick
    result for the current row computed from that fit (``row_task``). The row is asked for only once
    the fit it needs has arrived, so quick work never waits for (or computes) a fit."""

    def __init__(self, source: Any, X: Any = None, **kwargs: Any) -> None:
        self._fitted: tuple[int, Task] | None = None
        super().__init__(source, X, **kwargs)

    @traitlets.validate("fit_rows", "score_rows")  # traits of the subclasses that sample their fit
    def _check_rows(self, proposal: dict) -> int:
        least = 0 if proposal["trait"].name == "fit_rows" else 1
        if proposal["value"] < least:
            raise traitlets.TraitError(f"{proposal['trait'].name} must be at least {least}, got {proposal['value']}")
        return proposal["value"]

    @property
    def fit_task(self) -> Task:
        raise NotImplementedError

    def row_task(self, values: tuple[float, ...], fit: Task) -> Task:
        raise NotImplementedError

    def show_fit(self, result: Any) -> None:
        raise NotImplementedError

    def show_row(self, result: Any, values: np.ndarray) -> None:
        raise NotImplementedError

    @property
    def label(self) -> int:
        """The class a fit imitates (0 for regression)."""
        return self.inspector.target_class if self.data.mode == "classification" else 0

    def update(self, changes: set[str]) -> None:
        wanted = (self.inspector.version, self.fit_task)
        if changes & {"target_class", "options", "model"} or self._fitted != wanted:
            self.request("fit", wanted[1], lambda result, fitted=wanted: self._fit_arrived(result, fitted))
        elif "values" in changes:
            self._request_row()

    def _fit_arrived(self, result: Any, fitted: tuple[int, Task]) -> None:
        self.show_fit(result)
        self._fitted = fitted
        self._request_row()

    def _request_row(self) -> None:
        if self._fitted is None or self._fitted != (self.inspector.version, self.fit_task):
            return  # the fit for the current version, class and options is on its way; the row follows it
        fit = self._fitted[1]
        self.request_current("row", lambda values: self.row_task(values, fit), self.show_row)
