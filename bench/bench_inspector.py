"""Inspector benchmark: forward passes and wall time of a Dashboard build and of one slider move.

Forward passes are counted two ways: by a wrapper module around the model (every pass the model sees,
whoever makes it) and by the inspector's own log. Targets (issue 7): on 150 rows × 4 features, ≤ 2
passes over all of X while a Dashboard builds, ≤ 1 single-row pass per slider move. The baseline, measured
in the same run, is the model's own forward pass over X and over one row (the floor for any view).
Run: `.venv/bin/python bench/bench_inspector.py`."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits, load_iris

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnwidgets as nw  # noqa: E402
from tests.planted import Counted  # noqa: E402  (counts every pass the model sees, shadows included)


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def kinds(log: list[int], rows: int) -> str:
    over_x = sum(1 for n in log if n == rows)
    single = sum(1 for n in log if n == 1)
    return f"{len(log)} passes: {over_x} over all of X, {single} single-row, {len(log) - over_x - single} other"


def floor(model: torch.nn.Module, X: np.ndarray) -> tuple[float, float]:
    """The model's own forward pass over X and over one row, in ms (median of 20)."""
    full, one = torch.tensor(X, dtype=torch.float32), torch.tensor(X[:1], dtype=torch.float32)
    times = {"full": [], "one": []}
    with torch.no_grad():
        for _ in range(20):
            for key, batch in (("full", full), ("one", one)):
                t0 = time.perf_counter()
                model(batch)
                times[key].append(time.perf_counter() - t0)
    return statistics.median(times["full"]) * 1e3, statistics.median(times["one"]) * 1e3


def bench(name: str, model: torch.nn.Module, X: np.ndarray, y: np.ndarray, moves: int = 20, targets: bool = False) -> None:
    rows = len(X)
    print(f"{name}: {rows:,} rows x {X.shape[1]} features")
    full, one = floor(model, X)
    print(f"    baseline: the model's own forward pass over X {full:.2f} ms, over one row {one:.3f} ms")
    counted = Counted(model)
    Counted.log.clear()
    t0 = time.perf_counter()
    s = nw.Inspector(counted, X, y=y)
    dash = nw.Dashboard(s)
    returned = time.perf_counter() - t0
    dash.wait()
    drawn = time.perf_counter() - t0
    build = list(Counted.log)
    print(f"    Dashboard build: returned in {returned * 1e3:.0f} ms, every view ready after {drawn * 1e3:.0f} ms")
    print(f"    build: {kinds(build, rows)} (the inspector's own log: {len(s.predictor.passes)} passes)")
    if targets:
        ok = build.count(rows) <= 2
        print(f"      passes over all of X {build.count(rows)}  (target <= 2: {verdict(ok)})")
    move_passes, returns, ready = [], [], []
    rng = np.random.default_rng(0)
    for _ in range(moves):
        values = X[rng.integers(rows)] + rng.normal(scale=0.05, size=X.shape[1])
        Counted.log.clear()
        t0 = time.perf_counter()
        s.values = values
        returns.append(time.perf_counter() - t0)
        dash.wait()
        ready.append(time.perf_counter() - t0)
        move_passes.append(list(Counted.log))
    singles = max(log.count(1) for log in move_passes)
    print(f"    slider move: returns in {statistics.median(returns) * 1e3:.1f} ms p50, every view ready after "
          f"{statistics.median(ready) * 1e3:.0f} ms p50 (LIME included)")
    print(f"    one move: {kinds(move_passes[-1], rows)}; single-row passes per move, worst of {moves}: {singles}"
          + (f"  (target <= 1: {verdict(singles <= 1)})" if targets else ""))
    fits = sum(1 for key in s._cache._kinds.get("GamFit", {}))
    print(f"    GAM fits cached for this model version and class: {fits} (shared by the GAM view and the surrogates)")
    dash.close()


def main() -> None:
    torch.manual_seed(0)
    iris = load_iris()
    mlp = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    bench("(a) iris-sized (the issue's case)", mlp, iris.data, iris.target, targets=True)
    digits = load_digits()
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 16), torch.nn.Tanh(),
                              torch.nn.Linear(16, 10))
    bench("(b) digits (notebook 03)", net, digits.data / 16, digits.target, moves=10)


if __name__ == "__main__":
    main()
