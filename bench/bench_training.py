"""Training-loop overhead of live views (issue 9, point 5): the step time of the same loop with and without
nnwidgets watching, measured in one run.

Three identical models train in turn, in rounds of three blocks: one nobody watches (the baseline), one
with views open and shown as on a page (Dashboard on its first tab, WeightHeatmap, ModelExplorer, and a
TrainingMonitor that the loop also logs to), and a second unwatched one (the control: how far two identical
loops differ on this machine). The overhead is the median over rounds of the watched block's mean step
time over the baseline's, with a bootstrap 95 % interval; the control's ratio, computed the same way, is
the noise floor. The order of the three blocks rotates from round to round, and every block starts after
the same pause, once the watched model's live work has ended (a baseline block never pays for it).
Target: ≤ 3 % more time per step, on notebook 03's loop (digits, a small MLP, full-batch Adam) and on a loop
over a 100 M-parameter model (sampling adapts: fewer refreshes per second).
On a big model glibc's malloc adds its own noise: its adaptive thresholds hand the step's hundreds of MB
of temporaries back to the system and fault them in again, so the same loop's steps swing by 2x with the
page faults. The 100 M loop therefore runs twice: as glibc comes, and in a child process with those
thresholds fixed (``mallopt``, what ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` would set),
where steps are steady and the comparison narrower; each arm's page faults per step are printed.
Run: `.venv/bin/python bench/bench_training.py [--quick | --only-100m [--steady-allocator]]`."""

from __future__ import annotations

import ctypes
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnwidgets as nw  # noqa: E402
from nnwidgets.core.live import ticker  # noqa: E402
from nnwidgets.core.live import messages  # noqa: E402

TARGET = 0.03
PAUSE_S = 0.2


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def settle(inspector: nw.Inspector, views: list) -> None:
    while inspector.training:
        time.sleep(0.05)
    for view in views:
        view.wait()


def on_page(*views) -> list:
    """What the page tells a displayed view (as js/lib/lifecycle.js does): a layout on the page parks its
    hidden tabs, as in a notebook, where only the selected tab computes."""
    for view in views:
        view._on_message(view, {"event": "view", "shown": True}, [])
    return list(views)


def steady_allocator() -> None:
    """Fix glibc's mmap threshold (64 MiB) and trim threshold (1 GiB), which it otherwise adapts as it goes."""
    libc = ctypes.CDLL("libc.so.6")
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    if not (libc.mallopt(M_MMAP_THRESHOLD, 64 << 20) and libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)):
        raise RuntimeError("mallopt refused the thresholds")


def page_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def block(step, seconds: float, min_steps: int) -> tuple[list[float], int]:
    """Step times of one block, and the page faults the process took meanwhile."""
    times, start, faults = [], time.perf_counter(), page_faults()
    while time.perf_counter() - start < seconds or len(times) < min_steps:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return times, page_faults() - faults


def interval(ratios: list[float], seed: int = 0) -> tuple[float, float]:
    """A 95 % bootstrap interval of the median of ``ratios`` (resampled 2,000 times, seeded)."""
    rng = np.random.default_rng(seed)
    medians = np.median(rng.choice(ratios, size=(2000, len(ratios))), axis=1)
    return float(np.quantile(medians, 0.025)), float(np.quantile(medians, 0.975))


def compare(name: str, make_model, batch, watch_views, rounds: int, seconds: float, min_steps: int, log_every: int = 1) -> None:
    inputs, targets = batch
    bare, control, watched = make_model(), make_model(), make_model()
    opt_bare = torch.optim.Adam(bare.parameters(), lr=1e-3)
    opt_control = torch.optim.Adam(control.parameters(), lr=1e-3)
    opt_watched = torch.optim.Adam(watched.parameters(), lr=1e-3)
    inspector, views, monitor = watch_views(watched)
    settle(inspector, views)
    count = {"n": 0}

    def step_bare() -> None:
        opt_bare.zero_grad()
        nn.functional.cross_entropy(bare(inputs), targets).backward()
        opt_bare.step()

    def step_control() -> None:  # a second unwatched model: how far two identical loops differ here (the noise)
        opt_control.zero_grad()
        nn.functional.cross_entropy(control(inputs), targets).backward()
        opt_control.step()

    def step_watched() -> None:
        opt_watched.zero_grad()
        loss = nn.functional.cross_entropy(watched(inputs), targets)
        loss.backward()
        opt_watched.step()
        count["n"] += 1
        if monitor is not None and count["n"] % log_every == 0:
            monitor.log(loss=loss.item())

    arms = {"bare": step_bare, "watched": step_watched, "control": step_control}
    for arm in arms.values():  # warm up
        arm()
    times: dict[str, list[float]] = {arm: [] for arm in arms}
    faults = dict.fromkeys(arms, 0)
    refreshes_before, skipped_before = ticker().refreshes, ticker().skipped
    peak_messages = 0.0
    ratios, control_ratios = [], []  # blocks of one round share the machine's state: their ratio is steadier than the totals
    orders = [("bare", "watched", "control"), ("watched", "control", "bare"), ("control", "bare", "watched")]
    for round_ in range(rounds):
        means = {}
        for arm in orders[round_ % 3]:  # each arm as often first, second and third
            settle(inspector, views)  # the watched model's live work ends before any block starts
            time.sleep(PAUSE_S)  # and every block starts after the same idle moment
            block_times, block_faults = block(arms[arm], seconds, min_steps)
            times[arm] += block_times
            faults[arm] += block_faults
            means[arm] = statistics.fmean(block_times)
        ratios.append(means["watched"] / means["bare"])
        control_ratios.append(means["control"] / means["bare"])
        peak_messages = max(peak_messages, messages.per_second())
    settle(inspector, views)
    bare_ms = statistics.median(times["bare"]) * 1e3
    watched_ms = statistics.median(times["watched"]) * 1e3
    mean_bare, mean_watched = statistics.fmean(times["bare"]) * 1e3, statistics.fmean(times["watched"]) * 1e3
    overhead = statistics.median(ratios) - 1
    low, high = (v - 1 for v in interval(ratios))
    noise = statistics.median(control_ratios) - 1
    noise_low, noise_high = (v - 1 for v in interval(control_ratios))
    print(f"{name}")
    print(f"    baseline (the same loop, nobody watching): step p50 {bare_ms:.2f} ms, mean {mean_bare:.2f} ms over {len(times['bare'])} steps")
    print(f"    with {', '.join(type(v).__name__ for v in views)} live: step p50 {watched_ms:.2f} ms, mean {mean_watched:.2f} ms over {len(times['watched'])} steps")
    print(f"    overhead: median over {rounds} rounds {overhead * 100:+.1f} % (95 % interval {low * 100:+.1f} .. {high * 100:+.1f} %; "
          f"target <= {TARGET * 100:.0f} %: {verdict(overhead <= TARGET)}); all steps: p50 {(watched_ms / bare_ms - 1) * 100:+.1f} %, "
          f"mean {(mean_watched / mean_bare - 1) * 100:+.1f} %")
    print(f"    the same comparison between two unwatched loops (this machine's noise): median {noise * 100:+.1f} % "
          f"(95 % interval {noise_low * 100:+.1f} .. {noise_high * 100:+.1f} %)")
    print(f"    live refreshes {ticker().refreshes - refreshes_before} (skipped to keep the budget: {ticker().skipped - skipped_before}); "
          f"messages to the page peaked at {peak_messages:.0f}/s (limit 100/s)")
    print("    page faults per step: " + ", ".join(f"{arm} {faults[arm] / len(times[arm]):,.0f}" for arm in arms))
    if monitor is not None:
        print(f"    monitor: {len(monitor.history.get('loss', []))} loss points kept, {monitor.memory_bytes / 2**20:.1f} MiB")
    for view in views:
        view.close()


def notebook_03(rounds: int, seconds: float) -> None:
    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    batch = torch.tensor(X, dtype=torch.float32), torch.tensor(y)

    def make() -> nn.Module:
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh(), nn.Linear(16, 10))

    def views(model):
        s = nw.Inspector(model, X, y=y, class_names=[str(d) for d in range(10)])
        shown = on_page(nw.Dashboard(s), nw.WeightHeatmap(s), nw.ModelExplorer(s))
        monitor = on_page(nw.TrainingMonitor(s))[0]
        return s, shown + [monitor], monitor

    compare("notebook 03's loop: digits (1,797 x 64), MLP 64-32-16-10, full-batch Adam", make, batch, views, rounds, seconds, 200)


def hundred_million(rounds: int, seconds: float, allocator: str) -> None:
    width, depth = 2048, 24

    def make() -> nn.Module:
        torch.manual_seed(0)
        layers = []
        for _ in range(depth):
            layers += [nn.Linear(width, width), nn.ReLU()]
        return nn.Sequential(*layers[:-1], nn.Linear(width, 10))

    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(32, width, generator=generator)
    targets = torch.randint(0, 10, (32,), generator=generator)

    def views(model):
        s = nw.Inspector(model)
        shown = on_page(nw.WeightHeatmap(s), nw.ModelExplorer(s))
        monitor = on_page(nw.TrainingMonitor(s))[0]
        return s, shown + [monitor], monitor

    params = sum(p.numel() for p in make().parameters())
    compare(f"a {params / 1e6:.0f} M-parameter MLP ({depth} x Linear({width}, {width})), batch 32, Adam; {allocator}", make, (inputs, targets),
            views, rounds, seconds, 3)


def main(args: list[str]) -> None:
    if "--steady-allocator" in args:
        steady_allocator()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    if "--only-100m" not in args:
        notebook_03(rounds=3 if "--quick" in args else 24, seconds=1.0)
        if "--quick" in args:
            return
    allocator = "glibc's malloc with fixed thresholds" if "--steady-allocator" in args else "glibc's malloc as it comes"
    hundred_million(rounds=8, seconds=12.0, allocator=allocator)  # a loop of ~25 steps: a session's first picture is paid once per loop
    if "--only-100m" not in args and platform.libc_ver()[0] == "glibc":  # mallopt's thresholds are glibc's
        sys.stdout.flush()
        subprocess.run([sys.executable, __file__, "--only-100m", "--steady-allocator"], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
