"""Bounded records of training: (step, value) pairs per named metric that never outgrow a fixed size,
however long training runs, and still reach back to its first step."""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np

DEFAULT_POINTS = 4096


class Series:
    """(step, value) pairs of one metric, at most ``capacity`` of them.

    Every pair is kept until the series is full; then every other pair is dropped and from then on
    only every second offered pair is kept (then every fourth, ...). Like a ring buffer its size is
    bounded, but it thins the whole run evenly instead of forgetting its start; the newest pair is
    always there too (so at most ``capacity + 1`` pairs).

    >>> s = Series(capacity=4)
    >>> for step in range(10):
    ...     s.add(step, float(step))
    >>> s.steps.tolist(), s.stride
    ([0, 4, 8, 9], 4)
    """

    def __init__(self, capacity: int = DEFAULT_POINTS) -> None:
        if capacity < 2:
            raise ValueError(f"capacity must be at least 2, got {capacity}")
        self.capacity = capacity
        self.stride = 1
        self._offered = 0
        self._n = 0
        self._last: tuple[int, float] | None = None
        self._steps = np.empty(capacity, dtype=np.int64)
        self._values = np.empty(capacity, dtype=np.float64)

    def add(self, step: int, value: float) -> None:
        self._last = (step, value)  # the newest pair is always shown, whatever the thinning keeps
        keep = self._offered % self.stride == 0
        self._offered += 1
        if not keep:
            return
        if self._n == self.capacity:
            half = (self._n + 1) // 2
            self._steps[:half] = self._steps[: self._n : 2]
            self._values[:half] = self._values[: self._n : 2]
            self._n = half
            self.stride *= 2
            if (self._offered - 1) % self.stride:
                return
        self._steps[self._n] = step
        self._values[self._n] = value
        self._n += 1

    def _with_last(self) -> tuple[np.ndarray, np.ndarray]:
        steps, values = self._steps[: self._n], self._values[: self._n]
        if self._last is not None and (self._n == 0 or steps[-1] != self._last[0]):
            return np.append(steps, self._last[0]), np.append(values, self._last[1])
        return steps.copy(), values.copy()

    @property
    def steps(self) -> np.ndarray:
        return self._with_last()[0]

    @property
    def values(self) -> np.ndarray:
        return self._with_last()[1]

    def pairs(self) -> list[tuple[int, float]]:
        steps, values = self._with_last()
        return list(zip(steps.tolist(), values.tolist()))

    def __len__(self) -> int:
        return len(self._with_last()[0])

    @property
    def nbytes(self) -> int:
        return self._steps.nbytes + self._values.nbytes


class History:
    """Named :class:`Series`, safe to add to from a training thread while another thread reads.

    ``as_dict()`` (what ``monitor.history`` and ``trainer.history`` return) maps each metric's name to
    its recorded ``(step, value)`` pairs.

    >>> h = History()
    >>> h.add(0, loss=2.3, accuracy=0.1)
    >>> h.add(1, loss=1.9)
    >>> h.as_dict()["loss"]
    [(0, 2.3), (1, 1.9)]
    >>> h.names()
    ['loss', 'accuracy']
    """

    def __init__(self, points: int = DEFAULT_POINTS) -> None:
        self.points = points
        self._series: dict[str, Series] = {}
        self._lock = threading.Lock()

    def add(self, step: int, **values: float) -> None:
        with self._lock:
            for name, value in values.items():
                series = self._series.get(name)
                if series is None:
                    series = self._series[name] = Series(self.points)
                series.add(int(step), float(value))

    def series(self, name: str) -> Series:
        with self._lock:
            if name not in self._series:
                raise KeyError(f"no metric {name!r} recorded; recorded: {sorted(self._series)}")
            return self._series[name]

    def names(self) -> list[str]:
        with self._lock:
            return list(self._series)

    def as_dict(self, names: Iterable[str] | None = None) -> dict[str, list[tuple[int, float]]]:
        with self._lock:
            chosen = self._series if names is None else {n: self._series[n] for n in names if n in self._series}
            return {name: s.pairs() for name, s in chosen.items()}

    def clear(self) -> None:
        with self._lock:
            self._series.clear()

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(s.nbytes for s in self._series.values())
