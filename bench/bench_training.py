"""Training-loop overhead of live views (issue 9, point 5): the step time of the same loop with and without
nnwidgets watching, measured in one run.

Four identical models train in turn, in rounds of four blocks: one nobody watches (the baseline), one
with views open and shown as on a page (Dashboard on its first tab, WeightHeatmap, ModelExplorer, and a
TrainingMonitor that the loop also logs to), a second unwatched one (the control: how far two identical
loops differ on this machine), and one in a child process that never imports nnwidgets (the fresh
process, ``fresh_loop.py``: what nnwidgets costs a loop it does not even watch — its idle threads, what
its work left behind — shows only against that). The overhead is the median over rounds of the watched
block's mean step time over the baseline's, with a bootstrap 95 % interval; the control's ratio, computed
the same way, is the noise floor; the baseline's and the watched block's ratios to the fresh process are
printed the same way. The order of the blocks rotates from round to round (each arm as often in each
place), and every block starts after the same pause, once the watched model's live work has ended (a
baseline block never pays for it).
This machine's speed can drift by 25 % from one one-second block to the next, which leaves those medians
a few percent wide. So a second phase interleaves: in each block the baseline and the watched loop take
turns step by step (in a random order per pair), which cancels the drift for what the watched steps
themselves cost (the hooks, the statistics, ``monitor.log``); what nnwidgets' own threads cost is then
counted as their CPU time over the wall time (the kernel's count, from ``/proc``: on a machine whose cores
the training uses, the time it loses), and the two added. Taking turns, the watched loop has only half the
wall clock, while the monitor's statistics are budgeted as a share of the wall clock: at its usual duty each
watched step would pay for twice the statistics it pays for alone, so the monitor's duty is halved for this
phase (restored after). Our per-step code then runs every other step, with caches colder than in a loop of
its own (one watched step among three baseline ones raised the hooks' measured cost about four-fold; short
blocks of 32 steps each way measured the same as step-by-step turns). On notebook 03's loop the interleaved
phase runs twice: with ``monitor.log(loss=loss.item())`` every step (what the blocks run), and as the
notebook writes its loop — no log; the monitor hears the steps through the optimizer hooks alone. Where
the watched loop logs its loss, the unwatched loops keep theirs in a list (``losses.append(loss.item())``,
as a loop that draws its loss curve without nnwidgets does): reading the loss is the loop's cost, the log
nnwidgets'.
Two identical unwatched loops in one process differ steadily by up to about 1 % (each model's place in
memory, its optimizer's): the interleaved phase therefore swaps the roles halfway — every view of the first
model closes, and the same views open on the second — and reports the geometric mean of the two halves'
medians, in which that difference cancels.
Target: ≤ 3 % more time per step, on notebook 03's loop (digits, a small MLP, full-batch Adam) and on a loop
over a 100 M-parameter model (sampling adapts: fewer refreshes per second).
On a big model glibc's malloc adds its own noise: its adaptive thresholds hand the step's hundreds of MB
of temporaries back to the system and fault them in again, so the same loop's steps swing by 2x with the
page faults. The 100 M loop therefore runs twice: as glibc comes, and in a child process with those
thresholds fixed (``mallopt``, what ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` would set),
where steps are steady and the comparison narrower; each arm's page faults per step are printed.
Run: `.venv/bin/python bench/bench_training.py [--quick | --only-100m [--steady-allocator]]`."""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnwidgets as nw  # noqa: E402
from fresh_loop import steady_allocator  # noqa: E402
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


def paired_block(step_a, step_b, seconds: float, min_steps: int, seed: int) -> tuple[list[float], list[float]]:
    """Step times of a block where the two loops take turns step by step, which goes first drawn at random
    for each pair: a change in the machine's speed then hits both alike, and so does background work that
    comes at the same moment of every block (a strict alternation would always put the same loop there)."""
    a, b, start = [], [], time.perf_counter()
    first = np.random.default_rng(seed)
    while time.perf_counter() - start < seconds or len(a) < min_steps:
        for step, out in ((step_a, a), (step_b, b)) if first.random() < 0.5 else ((step_b, b), (step_a, a)):
            t0 = time.perf_counter()
            step()
            out.append(time.perf_counter() - t0)
    return a, b


def thread_cpu() -> dict[int, float]:
    """CPU seconds of each thread of this process, by the kernel's count (Linux: ``/proc``)."""
    cpu = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                cpu[int(tid)] = int(f.read().split()[0]) / 1e9
        except OSError:  # ended meanwhile
            pass
    return cpu


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # ended threads included
    return usage.ru_utime + usage.ru_stime


def with_our_cpu(run):
    """``run()``'s result and the CPU seconds nnwidgets' threads (and OpenMP workers they started) took
    meanwhile: the process's CPU time less that of the threads that were there and not ours."""
    ours = {t.native_id for t in threading.enumerate() if t.name.startswith("nnwidgets-")}
    others = {tid: cpu for tid, cpu in thread_cpu().items() if tid not in ours}
    total = process_cpu()
    result = run()
    total = process_cpu() - total
    now = thread_cpu()
    return result, total - sum(now.get(tid, cpu) - cpu for tid, cpu in others.items())


class FreshProcess:
    """The same loop in a child process that never imports nnwidgets (``fresh_loop.py``), a block at a time."""

    def __init__(self, model: nn.Module, batch: tuple, flags: list[str]) -> None:
        self._file = tempfile.NamedTemporaryFile(suffix=".pt")
        torch.save((model, *batch), self._file.name)
        self._child = subprocess.Popen([sys.executable, str(ROOT / "bench" / "fresh_loop.py"), self._file.name, *flags],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if not json.loads(self._child.stdout.readline()).get("ready"):
            raise RuntimeError("the fresh process did not start")

    def block(self, seconds: float, min_steps: int) -> tuple[list[float], int]:
        self._child.stdin.write(f"run {seconds} {min_steps}\n")
        self._child.stdin.flush()
        answer = json.loads(self._child.stdout.readline())
        return answer["times"], answer["faults"]

    def close(self) -> None:
        self._child.communicate("quit\n", timeout=60)
        self._file.close()


def ratio_line(ratios: list[float]) -> str:
    median = statistics.median(ratios) - 1
    low, high = (v - 1 for v in interval(ratios))
    return f"median {median * 100:+.1f} % (95 % interval {low * 100:+.1f} .. {high * 100:+.1f} %)"


def interval(ratios: list[float], seed: int = 0) -> tuple[float, float]:
    """A 95 % bootstrap interval of the median of ``ratios`` (resampled 2,000 times, seeded)."""
    rng = np.random.default_rng(seed)
    medians = np.median(rng.choice(ratios, size=(2000, len(ratios))), axis=1)
    return float(np.quantile(medians, 0.025)), float(np.quantile(medians, 0.975))


class Loop:
    """One model training on the batch with full-batch Adam, as notebook 03 writes it. While ``logging`` is
    on, every ``log_every``-th step also records its loss: to the monitor (``monitor.log(loss=loss.item())``)
    while nnwidgets watches the loop (:meth:`watch`), else into a list of its own (``losses.append(loss.item())``,
    what a loop that keeps its loss curve without nnwidgets does): what the loss costs to read is the
    loop's, in both."""

    def __init__(self, make_model, batch: tuple, log_every: int = 1) -> None:
        self.model = make_model()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.inputs, self.targets = batch
        self.log_every, self.count, self.logging = log_every, 0, True
        self.losses: deque[float] = deque(maxlen=100_000)
        self.inspector, self.views, self.monitor = None, [], None

    def step(self) -> None:
        self.optimizer.zero_grad()
        loss = nn.functional.cross_entropy(self.model(self.inputs), self.targets)
        loss.backward()
        self.optimizer.step()
        if self.logging:
            self.count += 1
            if self.count % self.log_every == 0:
                if self.monitor is not None:
                    self.monitor.log(loss=loss.item())
                else:
                    self.losses.append(loss.item())

    def watch(self, watch_views) -> None:
        self.inspector, self.views, self.monitor = watch_views(self.model)
        settle(self.inspector, self.views)

    def unwatch(self) -> None:
        """Close every view and let the inspector go: nnwidgets no longer hears this model's steps."""
        settle(self.inspector, self.views)
        for view in self.views:
            view.close()
        self.inspector, self.views, self.monitor = None, [], None
        gc.collect()


def compare(name: str, make_model, batch, watch_views, rounds: int, seconds: float, min_steps: int, log_every: int = 1,
            fresh_flags: tuple[str, ...] = (), unlogged_too: bool = False, interleaved_rounds: int | None = None) -> None:
    """``rounds`` of blocks, then ``interleaved_rounds`` interleaved blocks per variant (with and without
    logging) in each half (``rounds`` where not given)."""
    fresh = FreshProcess(make_model(), batch, list(fresh_flags))
    bare, control, watched = (Loop(make_model, batch, log_every) for _ in range(3))  # control: a second unwatched loop
    watched.watch(watch_views)
    view_names = ", ".join(type(v).__name__ for v in watched.views)
    steps = {"bare": bare.step, "watched": watched.step, "control": control.step}
    for arm in steps.values():  # warm up
        arm()
    arms = {name: (lambda step=step: block(step, seconds, min_steps)) for name, step in steps.items()}
    arms["fresh"] = lambda: fresh.block(seconds, min_steps)
    times: dict[str, list[float]] = {arm: [] for arm in arms}
    faults = dict.fromkeys(arms, 0)
    refreshes_before, skipped_before = ticker().refreshes, ticker().skipped
    peak_messages = 0.0
    ratios, control_ratios, bare_fresh, watched_fresh = [], [], [], []  # blocks of one round share the machine's state
    orders = [("bare", "watched", "control", "fresh"), ("watched", "fresh", "bare", "control"),
              ("control", "bare", "fresh", "watched"), ("fresh", "control", "watched", "bare")]
    for round_ in range(rounds):
        means = {}
        for arm in orders[round_ % 4]:  # each arm as often in each place
            settle(watched.inspector, watched.views)  # the watched model's live work ends before any block starts
            time.sleep(PAUSE_S)  # and every block starts after the same idle moment
            block_times, block_faults = arms[arm]()
            times[arm] += block_times
            faults[arm] += block_faults
            means[arm] = statistics.fmean(block_times)
        ratios.append(means["watched"] / means["bare"])
        control_ratios.append(means["control"] / means["bare"])
        bare_fresh.append(means["bare"] / means["fresh"])
        watched_fresh.append(means["watched"] / means["fresh"])
        peak_messages = max(peak_messages, messages.per_second())
    variants = (True, False) if unlogged_too and watched.monitor is not None else (True,)  # with monitor.log, without
    paired = {v: ([], []) for v in variants}  # the per-step cost on the training thread, per block, in each half
    ours_share = {v: [] for v in variants}  # our threads' CPU per second of wall time
    watched_share = []
    solo_duty = watched.monitor.duty if watched.monitor is not None else None
    per_half = rounds if interleaved_rounds is None else interleaved_rounds
    for half, (base, seen) in enumerate(((bare, watched), (watched, bare))):
        if half == 1:  # the roles swap: what one model's loop costs beside another's (their memory, their place) cancels
            watched.unwatch()
            bare.watch(watch_views)
            block(bare.step, seconds, min_steps)  # warmed up as the first watched loop was in the blocks: a monitor samples
            # each of its first steps whatever they cost and its views draw a first live picture (on the 100 M model,
            # most of a second in all, against the ~50 watched steps of a half there); the steady cost is what is compared
        if seen.monitor is not None:  # taking turns, the watched loop has half the wall clock, and the statistics spend a share
            seen.monitor.duty = solo_duty / 2  # of the wall: at the same duty, each of its steps would pay for twice what it pays alone
        for round_ in range(per_half * len(variants)):
            base.logging = seen.logging = variant = variants[round_ % len(variants)]
            settle(seen.inspector, seen.views)
            time.sleep(PAUSE_S)
            started = time.perf_counter()
            (base_times, seen_times), ours_cpu = with_our_cpu(
                lambda: paired_block(base.step, seen.step, seconds, min_steps, 2 * round_ + half))
            paired[variant][half].append(sum(seen_times) / sum(base_times))
            wall = time.perf_counter() - started
            ours_share[variant].append(ours_cpu / wall)
            watched_share.append(sum(seen_times) / wall)
        base.logging = seen.logging = True
    fresh.close()
    bare_ms = statistics.median(times["bare"]) * 1e3
    watched_ms = statistics.median(times["watched"]) * 1e3
    mean_bare, mean_watched = statistics.fmean(times["bare"]) * 1e3, statistics.fmean(times["watched"]) * 1e3
    overhead = statistics.median(ratios) - 1
    low, high = (v - 1 for v in interval(ratios))
    print(f"{name}")
    print(f"    baseline (the same loop, nobody watching): step p50 {bare_ms:.2f} ms, mean {mean_bare:.2f} ms over {len(times['bare'])} steps")
    print(f"    with {view_names} live: step p50 {watched_ms:.2f} ms, mean {mean_watched:.2f} ms over {len(times['watched'])} steps")
    print(f"    overhead: median over {rounds} rounds {overhead * 100:+.1f} % (95 % interval {low * 100:+.1f} .. {high * 100:+.1f} %; "
          f"target <= {TARGET * 100:.0f} %: {verdict(overhead <= TARGET)}); all steps: p50 {(watched_ms / bare_ms - 1) * 100:+.1f} %, "
          f"mean {(mean_watched / mean_bare - 1) * 100:+.1f} %")
    print(f"    the same comparison between two unwatched loops (this machine's noise): {ratio_line(control_ratios)}")
    fresh_ms = statistics.median(times["fresh"]) * 1e3
    print(f"    the same loop in a process that never imported nnwidgets: step p50 {fresh_ms:.2f} ms over {len(times['fresh'])} steps; "
          f"against it, the baseline here (nnwidgets present, not watching this loop): {ratio_line(bare_fresh)}; "
          f"the watched loop: {ratio_line(watched_fresh)}")
    duty_note = (f" (the monitor's duty halved to {solo_duty / 2:.2%}: the watched steps had {statistics.median(watched_share):.0%} "
                 f"of the wall clock, and the statistics' budget is a share of it)" if solo_duty is not None else "")
    print(f"    interleaved ({2 * per_half} blocks per loop below where a baseline step and a watched one take turns, the machine's drift "
          f"cancels{duty_note}; the two models swap roles halfway, and the figure is the geometric mean of the halves' medians: "
          f"what one model's loop costs beside the other's, whatever nnwidgets does, cancels; nnwidgets' own threads' CPU time "
          f"over the wall time, median of blocks, is added: the training loses it where it uses every core):")
    for variant in variants:
        first, second = paired[variant]
        per_step, background = swapped_median(first, second) - 1, statistics.median(ours_share[variant])
        low, high = (v - 1 for v in swapped_interval(first, second))
        loop = ("with monitor.log(loss=loss.item()) every step (the baseline: losses.append(loss.item()))" if variant else
                "the loop as the notebook writes it (the monitor hears the steps; no monitor.log)")
        print(f"      {loop}: the watched steps {per_step * 100:+.1f} % (95 % interval {low * 100:+.1f} .. {high * 100:+.1f} %; "
              f"halves {(statistics.median(first) - 1) * 100:+.1f} % and {(statistics.median(second) - 1) * 100:+.1f} %); "
              f"our threads {background * 100:.1f} %; together {(per_step + background) * 100:+.1f} % "
              f"(target <= {TARGET * 100:.0f} %: {verdict(per_step + background <= TARGET)})")
    print(f"    live refreshes {ticker().refreshes - refreshes_before} (skipped to keep the budget: {ticker().skipped - skipped_before}); "
          f"messages to the page peaked at {peak_messages:.0f}/s (limit 100/s)")
    print("    page faults per step: " + ", ".join(f"{arm} {faults[arm] / len(times[arm]):,.0f}" for arm in arms))
    if bare.monitor is not None:
        print(f"    monitor (second half): {len(bare.monitor.history.get('loss', []))} loss points kept, {bare.monitor.memory_bytes / 2**20:.1f} MiB")
    bare.unwatch()


def swapped_median(first: list[float], second: list[float]) -> float:
    """The geometric mean of the two halves' median ratios: a bias of one model's loop against the other's
    enters one half multiplied and the other divided."""
    return math.sqrt(statistics.median(first) * statistics.median(second))


def swapped_interval(first: list[float], second: list[float], seed: int = 0) -> tuple[float, float]:
    """A 95 % bootstrap interval of :func:`swapped_median` (each half resampled, 2,000 times, seeded)."""
    rng = np.random.default_rng(seed)
    halves = [np.median(rng.choice(half, size=(2000, len(half))), axis=1) for half in (first, second)]
    estimates = np.sqrt(halves[0] * halves[1])
    return float(np.quantile(estimates, 0.025)), float(np.quantile(estimates, 0.975))


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

    compare("notebook 03's loop: digits (1,797 x 64), MLP 64-32-16-10, full-batch Adam", make, batch, views, rounds, seconds, 200,
            unlogged_too=True, interleaved_rounds=rounds)


def hundred_million(rounds: int, seconds: float, steady: bool) -> None:
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
    allocator = "glibc's malloc with fixed thresholds" if steady else "glibc's malloc as it comes"
    compare(f"a {params / 1e6:.0f} M-parameter MLP ({depth} x Linear({width}, {width})), batch 32, Adam; {allocator}", make, (inputs, targets),
            views, rounds, seconds, 3, fresh_flags=("--steady-allocator",) if steady else (), interleaved_rounds=rounds)


def main(args: list[str]) -> None:
    if "--steady-allocator" in args:
        steady_allocator()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    if "--only-100m" not in args:
        notebook_03(rounds=3 if "--quick" in args else 24, seconds=1.0)
        if "--quick" in args:
            return
    hundred_million(rounds=8, seconds=12.0, steady="--steady-allocator" in args)  # a loop of ~25 steps: a session's first picture is paid once per loop
    if "--only-100m" not in args and platform.libc_ver()[0] == "glibc":  # mallopt's thresholds are glibc's
        sys.stdout.flush()
        subprocess.run([sys.executable, __file__, "--only-100m", "--steady-allocator"], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
