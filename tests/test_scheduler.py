"""The one scheduler: newest request wins, one computation per key, superseded work dropped."""

import subprocess
import sys
import textwrap
import threading

import pytest

from nnwidgets.core.scheduler import Cancelled, ResultCache, Scheduler, Slot


def slot(log):
    return Slot(lambda r: log.append(("ok", r)), lambda e: log.append(("error", str(e))))


def test_cached_results_come_at_once_and_in_flight_work_is_shared():
    sched, cache, log_a, log_b = Scheduler(), ResultCache(), [], []
    gate = threading.Event()
    runs = []

    def work(job):
        runs.append(1)
        gate.wait(5)
        return 42

    a, b = slot(log_a), slot(log_b)
    sched.request(a, ("answer", 0), work, cache=cache, lane="slow")
    sched.request(b, ("answer", 0), work, cache=cache, lane="slow")
    gate.set()
    assert a.settled.wait(5) and b.settled.wait(5)
    assert log_a == log_b == [("ok", 42)] and runs == [1]
    c = slot(log_c := [])
    sched.request(c, ("answer", 0), work, cache=cache, lane="slow")
    assert log_c == [("ok", 42)] and runs == [1]


def test_latest_request_wins_across_cache_hits_and_misses():
    """v1 (cached) → v2 (slow, starts) → v1 again (cached): the view must end on v1, not v2."""
    sched, cache, log = Scheduler(), ResultCache(), []
    cache.put(("lime", "v1"), "explanation of v1", keep=8)
    gate = threading.Event()
    started = threading.Event()

    def v2(job):
        started.set()
        gate.wait(5)
        return "explanation of v2"

    s = slot(log)
    sched.request(s, ("lime", "v1"), lambda job: "never", cache=cache)
    sched.request(s, ("lime", "v2"), v2, cache=cache, lane="slow")
    assert started.wait(5)
    sched.request(s, ("lime", "v1"), lambda job: "never", cache=cache)
    gate.set()
    sched.compute(("lime", "v2"), v2, cache=cache, lane="slow")  # waits for the running v2
    assert log == [("ok", "explanation of v1"), ("ok", "explanation of v1")]
    assert cache.get(("lime", "v2")) == (True, "explanation of v2")  # kept for later, not shown


def test_superseded_queued_work_never_runs_and_running_work_is_cancelled():
    sched, cache, log = Scheduler(), ResultCache(), []
    gate, started, ran = threading.Event(), threading.Event(), []

    def first(job):
        started.set()
        while not gate.is_set():
            job.check()
            gate.wait(0.01)
        return "first"

    s = slot(log)
    sched.request(s, ("k", 1), first, cache=cache, lane="slow")
    assert started.wait(5)
    for i in range(2, 6):
        sched.request(s, ("k", i), lambda job, i=i: ran.append(i) or i, cache=cache, lane="slow")
    assert s.settled.wait(5)
    assert log == [("ok", 5)] and ran == [5]  # 2–4 dropped before running; 1 cancelled
    assert cache.get(("k", 1)) == (False, None)


def test_a_storm_of_settling_requests_computes_only_the_last():
    """A dragged slider: 30 requests 10 ms apart, each needing 0.2 s of quiet before it may start."""
    sched, cache, log, runs = Scheduler(), ResultCache(), [], []
    s = slot(log)

    def work(value):
        def run(job):
            runs.append(value)
            return value
        return run

    for value in range(30):
        sched.request(s, ("lime", value), work(value), cache=cache, lane="slow", settle=0.2)
        threading.Event().wait(0.01)
    assert s.settled.wait(5)
    assert runs == [29] and log == [("ok", 29)]


def test_settling_work_does_not_hold_back_work_that_need_not_settle():
    sched, cache, order = Scheduler(), ResultCache(), []
    a, b = slot(order), slot(order)
    sched.request(a, ("lime", 1), lambda job: "lime", cache=cache, lane="slow", settle=0.5)
    sched.request(b, ("gam", 1), lambda job: "gam", cache=cache, lane="slow", priority=9)
    assert a.settled.wait(5) and b.settled.wait(5)
    assert order == [("ok", "gam"), ("ok", "lime")]


def test_a_view_whose_callbacks_fail_does_not_stop_the_lane():
    sched, cache, log = Scheduler(), ResultCache(), []

    def broken(*_):
        raise RuntimeError("this view cannot take it")

    bad = Slot(broken, broken, broken)
    with pytest.warns(RuntimeWarning, match="this view cannot take it"):
        sched.request(bad, ("x", 1), lambda job: 1, cache=cache, lane="quick")
        assert bad.settled.wait(5)
        good = slot(log)
        sched.request(good, ("y", 2), lambda job: 2, cache=cache, lane="quick")
        assert good.settled.wait(5)
    assert log == [("ok", 2)] and cache.get(("x", 1)) == (True, 1)


def test_failures_reach_the_view_and_the_next_request_recovers():
    sched, cache, log = Scheduler(), ResultCache(), []
    s = slot(log)

    def boom(job):
        raise RuntimeError("input out of range")

    sched.request(s, ("k", "bad"), boom, cache=cache)
    assert s.settled.wait(5) and log == [("error", "input out of range")]
    sched.request(s, ("k", "good"), lambda job: "fine", cache=cache)
    assert s.settled.wait(5) and log[-1] == ("ok", "fine")
    assert cache.get(("k", "bad")) == (False, None)


def test_withdrawn_slot_gets_nothing():
    sched, cache, log = Scheduler(), ResultCache(), []
    gate = threading.Event()
    s = slot(log)
    sched.request(s, ("k", 1), lambda job: gate.wait(5) and "late", cache=cache, lane="slow")
    sched.withdraw(s)
    gate.set()
    sched.compute(("k", 2), lambda job: None, cache=cache, lane="slow")
    assert log == []


def test_progress_reaches_the_views_waiting():
    sched, cache, seen = Scheduler(), ResultCache(), []

    def work(job):
        for i in range(3):
            job.progress(i / 3, f"step {i}")
            threading.Event().wait(0.12)
        return "done"

    s = Slot(lambda r: None, lambda e: None, lambda text, fraction: seen.append((text, fraction)))
    sched.request(s, ("k", 1), work, cache=cache, lane="slow", describe="working")
    assert s.settled.wait(5)
    assert ("working", None) in seen or ("working", 0.0) in seen
    assert [t for t, _ in seen if t.startswith("step")] == ["step 0", "step 1", "step 2"]


def test_compute_on_a_queued_key_runs_it_here_once():
    sched, cache, runs = Scheduler(), ResultCache(), []
    gate = threading.Event()
    blocker = slot([])
    sched.request(blocker, ("block", 0), lambda job: gate.wait(5), cache=cache, lane="slow")
    queued = slot(log := [])
    sched.request(queued, ("k", 0), lambda job: runs.append(1) or "value", cache=cache, lane="slow")
    assert sched.compute(("k", 0), lambda job: runs.append(1) or "value", cache=cache, lane="slow") == "value"
    gate.set()
    assert queued.settled.wait(5) and log == [("ok", "value")] and runs == [1]


def test_unknown_lane_is_an_error():
    with pytest.raises(ValueError, match="lane must be one of"):
        Scheduler().request(slot([]), ("k",), lambda job: 1, cache=ResultCache(), lane="fast")


def test_cancelled_is_an_exception_jobs_can_raise():
    assert issubclass(Cancelled, Exception)


def test_the_process_exits_normally_with_work_in_flight(tmp_path):
    script = tmp_path / "exit.py"
    script.write_text(textwrap.dedent("""
        import numpy as np, torch, nnwidgets as nw
        torch.manual_seed(0)
        X = np.random.default_rng(0).normal(size=(3000, 8))
        net = torch.nn.Sequential(torch.nn.Linear(8, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))
        s = nw.Inspector(net, X)
        dash = nw.Dashboard(s)
        for i in range(20):
            s.values = X[i]
        print("leaving with work in flight", flush=True)
    """))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "leaving with work in flight" in result.stdout
    assert "terminate called" not in result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr[-2000:]


def test_workers_started_from_a_daemon_thread_are_not_daemons():
    """The live ticker (a daemon) asks for work: a worker inheriting daemon status would be cut off
    inside torch at interpreter exit, which aborts the process."""
    sched = Scheduler()
    seen, done = {}, threading.Event()

    def run(job):
        seen["daemon"] = threading.current_thread().daemon
        return 1

    def ask():
        slot = Slot(lambda result: done.set(), lambda error: done.set())
        sched.request(slot, ("k", 0, "z"), run, cache=ResultCache(), keep=1, lane="quick", priority=0, describe="z")

    daemon_caller = threading.Thread(target=ask, daemon=True)
    daemon_caller.start()
    daemon_caller.join()
    assert done.wait(10)
    assert seen["daemon"] is False
    sched.shutdown()


def test_work_a_live_refresh_asked_for_is_counted_apart_from_other_work():
    import time

    sched, cache = Scheduler(), ResultCache()

    def work_for(seconds):
        def work(job):
            started = time.perf_counter()
            while time.perf_counter() - started < seconds:  # busy, as a real task is
                pass
            return seconds
        return work

    user = slot([])
    sched.request(user, ("user", 0), work_for(0.15), cache=cache, lane="slow")  # asked for by a user or a new view
    assert user.settled.wait(5)
    with sched.asked_by_live_refresh():
        live = slot([])
        sched.request(live, ("live", 0), work_for(0.05), cache=cache, lane="slow")
    assert live.settled.wait(5)
    assert sched.busy_seconds(live_only=True) == pytest.approx(0.05, abs=0.03)
    assert sched.busy_seconds() == pytest.approx(0.20, abs=0.05)
    spans = sched.work_windows(0.0, live_only=True)
    assert len(spans) == 1 and spans[0][1] - spans[0][0] == pytest.approx(0.05, abs=0.03)
    sched.shutdown()
