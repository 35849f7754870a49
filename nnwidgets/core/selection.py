"""The one selection every view of an inspector follows: the row, the feature values (the row, maybe
edited), the explained class and the selected layer; checked, and announced to observers."""

from __future__ import annotations

import threading
import warnings
import weakref
from collections.abc import Callable, Iterable

import numpy as np

from .layer_table import resolve_layer
from .tabular import Tabular

SELECTION = ("row", "values", "target_class", "selected_layer")


def frozen(array: np.ndarray) -> np.ndarray:
    """A float64 copy that cannot be written to (assign a new array instead)."""
    array = np.array(array, dtype=np.float64)
    array.flags.writeable = False
    return array


class Selection:
    """Mixed into :class:`~nnwidgets.core.inspector.Inspector`: ``row``, ``values``, ``target_class``
    and ``selected_layer``, each checked when set (a ``TypeError``/``ValueError`` naming what is
    expected), and ``observe(callback)`` to hear of every change."""

    data: Tabular | None

    def _start_selection(self) -> None:
        self._row, self._values, self._target, self._layer = 0, np.zeros(0), 0, ""
        self._observers: list[Callable[[], Callable | None]] = []
        self._observers_lock = threading.Lock()

    def require_data(self, what: str) -> Tabular:
        raise NotImplementedError

    @property
    def row(self) -> int:
        return self._row

    @row.setter
    def row(self, row: int) -> None:
        self.select(row=row)

    @property
    def values(self) -> np.ndarray:
        """The current feature values: the row, maybe edited (a read-only array; assign a new one)."""
        return self._values

    @values.setter
    def values(self, values: Iterable[float]) -> None:
        self.select(values=values)

    @property
    def target_class(self) -> int:
        return self._target

    @target_class.setter
    def target_class(self, k: int) -> None:
        self.select(target_class=k)

    @property
    def selected_layer(self) -> str:
        return self._layer

    @selected_layer.setter
    def selected_layer(self, name: str) -> None:
        self.select(selected_layer=name)

    def select(self, *, row: int | None = None, values: Iterable[float] | None = None,
               target_class: int | None = None, selected_layer: str | None = None) -> None:
        """Change several parts of the selection at once: everything is checked first, and views hear
        of it once. A new ``row`` brings its values from X unless ``values`` are given too."""
        row = None if row is None else self.check_row(row)
        values = None if values is None else self.check_values(values)
        target = None if target_class is None else self.check_target_class(target_class)
        layer = None if selected_layer is None else self.check_selected_layer(selected_layer)
        changed = set()
        if row is not None:
            if row != self._row:
                changed.add("row")
            self._row = row
            if values is None:
                values = self.data.X[row]
        if values is not None and not np.array_equal(values, self._values):
            self._values = frozen(values)
            changed.add("values")
        if target is not None and target != self._target:
            self._target = target
            changed.add("target_class")
        if layer is not None and layer != self._layer:
            self._layer = layer
            changed.add("selected_layer")
        self._notify(changed)

    def check_row(self, row: object) -> int:
        """``row`` as an int if it is a row of X, else a ``TypeError``/``ValueError`` saying why."""
        data = self.require_data("row")
        if isinstance(row, bool) or not isinstance(row, (int, np.integer)):
            raise TypeError(f"row must be an int, got {type(row).__name__}")
        if not 0 <= row < data.n_rows:
            raise ValueError(f"row must be between 0 and {data.n_rows - 1} (X has {data.n_rows} rows), got {row}")
        return int(row)

    def check_values(self, values: object) -> np.ndarray:
        """``values`` as a float64 array of one finite number per feature, else a ``ValueError``."""
        data = self.require_data("values")
        try:
            array = np.array(values if isinstance(values, np.ndarray) else list(values), dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"values must be {data.n_features} numbers, got {type(values).__name__}") from None
        array = array.ravel() if data.image is None else data.image.as_image(array).ravel()
        if array.shape != (data.n_features,):
            raise ValueError(f"values needs {data.n_features} numbers (one per feature), got {array.size}")
        if not np.isfinite(array).all():
            raise ValueError("values must be finite numbers")
        return array

    def check_target_class(self, k: object) -> int:
        data = self.require_data("target_class")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"target_class must be an int, got {type(k).__name__}")
        n = len(data.class_names)
        if data.mode == "regression" and k != 0:
            raise ValueError("target_class is 0 for regression")
        if data.mode == "classification" and not 0 <= k < n:
            raise ValueError(f"target_class must be between 0 and {n - 1} ({n} classes), got {k}")
        return int(k)

    def check_selected_layer(self, name: object) -> str:
        """``name`` if it names a module of the model, else an error listing close names."""
        resolve_layer(self.model, name)
        return name

    def observe(self, callback: Callable[[frozenset[str]], None]) -> None:
        """Call ``callback(changes)`` when the selection or the model changes; ``changes`` names what
        changed (``"row"``, ``"values"``, ``"target_class"``, ``"selected_layer"``, ``"model"``).
        Bound methods are held weakly, so a view can be freed without unobserving."""
        ref = weakref.WeakMethod(callback) if hasattr(callback, "__self__") else (lambda: callback)
        with self._observers_lock:
            self._observers.append(ref)

    def unobserve(self, callback: Callable) -> None:
        with self._observers_lock:
            self._observers = [r for r in self._observers if r() is not None and r() != callback]

    def _notify(self, changes: set[str]) -> None:
        if not changes:
            return
        with self._observers_lock:
            callbacks = [r() for r in self._observers]
            self._observers = [r for r, c in zip(self._observers, callbacks) if c is not None]
        frozen = frozenset(changes)
        for callback in callbacks:
            if callback is None:
                continue
            try:
                callback(frozen)
            except Exception as error:  # one broken view must not stop the others
                warnings.warn(f"nnwidgets: a view failed to follow {sorted(frozen)}: {error}", stacklevel=2)
