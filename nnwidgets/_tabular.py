"""What the views of tabular data share: the row, the feature values and the explained class, all
the inspector's; feature names, ranges and class names sent once; values as a float64 buffer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import traitlets

from ._view import View
from .core import decode_array, encode_array
from .core.tabular import Tabular
from .core.tasks import Task


def _floats_to_json(value: Sequence[float], _widget: Any) -> dict:
    return encode_array(np.asarray(value, dtype=np.float64))


def _floats_from_json(payload: dict | list, _widget: Any) -> list[float]:
    if isinstance(payload, list):
        return [float(v) for v in payload]
    return [float(v) for v in decode_array(payload)]


# The `values` trait is a Python list for users; on the wire it is a float64 buffer.
BINARY_FLOATS = {"to_json": _floats_to_json, "from_json": _floats_from_json}


def feature_payload(data: Tabular) -> dict:
    """Names and slider ranges per feature; steps are 1 for integer-valued columns."""
    lo, hi = data.X.min(axis=0), data.X.max(axis=0)
    integer = np.all(data.X == np.round(data.X), axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    fine = np.array([float(f"{v:.2g}") for v in span / 100])
    step = np.where(integer & (span >= 10), 1.0, fine)
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

    def __init__(self, source: Any, X: Any = None, **kwargs: Any) -> None:
        super().__init__(source, X, **kwargs)
        data = self.inspector.data
        kind = self.inspector.output_kind
        with self.hold_sync():
            self.set_trait("mode", data.mode)
            self.set_trait("class_names", list(data.class_names))
            self.set_trait("features", feature_payload(data))
            self.set_trait("output_kind", f"{kind.kind}: {kind.reason}")

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
