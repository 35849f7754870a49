"""While a model trains, nnwidgets' own threads run torch on one thread, so that the training's OpenMP
workers keep the cores (a second team of them made a big model's optimizer steps ~10 % slower); the user's
threads keep their count, and background work uses every thread again once training paused."""

import os
import threading
import time

import numpy as np
import pytest
import torch
from torch import nn

import nnwidgets as nw
from nnwidgets.core.torch_threads import one_thread_for_torch

pytestmark = [
    pytest.mark.usefixtures("no_model_moving"),
    pytest.mark.skipif(torch.get_num_threads() < 2, reason="torch runs on one thread here already"),
]


def test_the_limit_holds_on_the_calling_thread_only_and_is_undone():
    inside, outside, after = [], [], []
    entered, checked = threading.Event(), threading.Event()

    def worker():
        with one_thread_for_torch():
            inside.append(torch.get_num_threads())
            entered.set()
            checked.wait(10)
        after.append(torch.get_num_threads())

    thread = threading.Thread(target=worker)
    thread.start()
    assert entered.wait(10)
    outside.append(torch.get_num_threads())  # the main thread, while the worker holds its limit
    checked.set()
    thread.join()
    assert inside == [1]
    assert outside == [torch.get_num_threads()] and outside[0] >= 2
    assert after == outside


@pytest.mark.parametrize("users_count", [1, 2])
def test_a_new_thread_after_the_user_set_torchs_thread_count(users_count):
    """torch gives a new thread the count last set with torch.set_num_threads on its first call there:
    the limit must hold over that, and leave the thread at the user's count after."""
    original = torch.get_num_threads()
    seen = {}

    def worker():
        with one_thread_for_torch():
            seen["inside"] = torch.get_num_threads()
        seen["after"] = torch.get_num_threads()

    torch.set_num_threads(users_count)
    try:
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert seen == {"inside": 1, "after": users_count}
        assert torch.get_num_threads() == users_count
    finally:
        torch.set_num_threads(original)


def test_when_false_changes_nothing():
    with one_thread_for_torch(when=False):
        assert torch.get_num_threads() >= 2


class CountsThreads(nn.Module):
    """A planted model whose forward notes the thread it ran on and torch's thread count there (a class
    attribute: the inspector's shadow of the model shares the class, not the instance's state)."""

    calls: list[tuple[str, int]] = []

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))

    def forward(self, x):
        CountsThreads.calls.append((threading.current_thread().name, torch.get_num_threads()))
        return self.body(x)


def test_background_work_runs_on_one_thread_while_the_model_trains_and_on_all_after():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 1)
    model = CountsThreads()
    s = nw.Inspector(model, X, y=y)
    activations = nw.Activations(s)
    activations.wait()
    default = torch.get_num_threads()

    CountsThreads.calls.clear()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    inputs, targets = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    start = time.monotonic()
    while time.monotonic() - start < 2.5:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(inputs), targets).backward()
        optimizer.step()
    during = list(CountsThreads.calls)
    ours = [count for name, count in during if name != threading.main_thread().name]
    assert ours, "no view ran the model in the background while it trained"
    assert set(ours) == {1}, during
    assert {count for name, count in during if name == threading.main_thread().name} == {default}  # the user's loop

    assert s.wait_for_pause(timeout=20)
    CountsThreads.calls.clear()
    importance = nw.Importance(s).wait()  # a pass over X, on a worker
    after = [count for name, count in CountsThreads.calls if name != threading.main_thread().name]
    assert after and set(after) == {default}, CountsThreads.calls
    assert importance.error == ""


def os_threads() -> int:
    """The process's threads as the kernel counts them (OpenMP's workers are not Python threads)."""
    return len(os.listdir("/proc/self/task"))


class ParallelForward(nn.Module):
    """A planted model whose forward runs one parallel torch operation (big enough for torch to split it
    across threads) and notes how many threads the process had meanwhile."""

    threads_seen: list[int] = []

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Linear(8, 3)

    def forward(self, x):
        ParallelForward.threads_seen.append(os_threads())
        return self.body(x) + 0.0 * torch.ones(1 << 22).sum()


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts the process's threads in /proc")
def test_no_thread_of_ours_keeps_an_openmp_team_once_its_work_is_done():
    """An idle thread that once ran parallel torch work keeps its team of OpenMP threads, and beside the
    user's team it made notebook 03's small training loop 2-3x slower on two cores: work on our threads
    must leave no team behind once it is done."""
    torch.ones(1 << 22).sum()  # the user's own team (the main thread's) exists before we count
    deadline = time.monotonic() + 20
    while any(t.name.startswith("nnwidgets-") for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)  # earlier tests' workers finishing
    before = os_threads()

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 8))
    s = nw.Inspector(ParallelForward(), X)
    ParallelForward.threads_seen.clear()
    importance = nw.Importance(s).wait()  # passes over X on a worker, with every thread (nothing trains)
    assert importance.error == ""
    assert max(ParallelForward.threads_seen) > before, "the work ran no second OpenMP team: this test shows nothing"

    deadline = time.monotonic() + 5
    while os_threads() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert os_threads() == before, [t.name for t in threading.enumerate()]
