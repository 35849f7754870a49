"""What the explanation widgets share: the data, the row and feature values, the explained class."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import traitlets
from torch import nn

from ._widget import ModelWidget
from .core import decode_array, encode_array
from .core.tabular import Tabular, prepare_tabular


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


class TabularWidget(ModelWidget):
    """Base of the explanation widgets: ``model`` and ``X`` (rows × features) plus, all optional,
    ``feature_names``, ``class_names``, ``mode`` ("classification" | "regression", inferred from
    the output shape) and ``preprocess`` (raw feature values → model inputs, e.g. a scaler)."""

    row = traitlets.Int(0, help="the row of X being explained").tag(sync=True)
    values = traitlets.List(traitlets.Float(), help="current feature values (the row, maybe edited)").tag(sync=True, **BINARY_FLOATS)
    target_class = traitlets.Int(0, help="index of the explained class (classification)").tag(sync=True)
    features = traitlets.Dict(read_only=True).tag(sync=True)
    class_names = traitlets.List(traitlets.Unicode(), read_only=True).tag(sync=True)
    mode = traitlets.Unicode(read_only=True).tag(sync=True)
    busy = traitlets.Bool(False, read_only=True).tag(sync=True)
    error = traitlets.Unicode("", read_only=True).tag(sync=True)

    def __init__(
        self,
        model: nn.Module,
        X: object,
        *,
        feature_names: Sequence[str] | None = None,
        class_names: Sequence[str] | None = None,
        mode: str | None = None,
        preprocess: Callable[[np.ndarray], object] | None = None,
        **kwargs: Any,
    ) -> None:
        self._ready = False
        self.data, self.predict = prepare_tabular(
            model, X, feature_names=feature_names, class_names=class_names, mode=mode, preprocess=preprocess
        )
        super().__init__(model, **kwargs)
        self.set_trait("mode", self.data.mode)
        self.set_trait("class_names", list(self.data.class_names))
        self.set_trait("features", feature_payload(self.data))
        if "values" not in kwargs:
            self.values = self.data.X[self.row].tolist()
        if "target_class" not in kwargs and self.data.mode == "classification":
            self.target_class = int(np.argmax(self.predict(self.data.X[:1])[0]))
        self._ready = True
        self.update()

    @property
    def current(self) -> np.ndarray:
        return np.asarray(self.values, dtype=np.float64)

    @traitlets.validate("row")
    def _check_row(self, proposal: dict) -> int:
        n = self.data.X.shape[0]
        if not 0 <= proposal["value"] < n:
            raise traitlets.TraitError(f"row must be between 0 and {n - 1} (X has {n} rows), got {proposal['value']}")
        return proposal["value"]

    @traitlets.validate("values")
    def _check_values(self, proposal: dict) -> list[float]:
        values = list(proposal["value"])
        if len(values) != self.data.n_features:
            raise traitlets.TraitError(f"values needs {self.data.n_features} numbers (one per feature), got {len(values)}")
        if not np.isfinite(values).all():
            raise traitlets.TraitError("values must be finite numbers")
        return values

    @traitlets.validate("target_class")
    def _check_class(self, proposal: dict) -> int:
        k = proposal["value"]
        n = len(self.data.class_names)
        if self.data.mode == "regression" and k != 0:
            raise traitlets.TraitError("target_class is 0 for regression")
        if self.data.mode == "classification" and not 0 <= k < n:
            raise traitlets.TraitError(f"target_class must be between 0 and {n - 1}, got {k}")
        return k

    @traitlets.observe("row")
    def _on_row(self, change: dict) -> None:
        if self._ready:
            self.values = self.data.X[change["new"]].tolist()

    @traitlets.observe("values", "target_class")
    def _on_input(self, _: dict) -> None:
        if self._ready:
            self.update()

    def update(self) -> None:
        """Recompute what the widget shows for the current values and class."""
        raise NotImplementedError

    def refresh(self) -> None:
        self.update()

    def _set_error(self, message: str) -> None:
        self.set_trait("error", message)

    def _set_busy(self, busy: bool) -> None:
        self.set_trait("busy", busy)
