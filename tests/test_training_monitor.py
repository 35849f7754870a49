"""TrainingMonitor: statistics against the test's own reads of the model around each step ("step k" is
the model after optimizer step k), warnings on planted failures, bounded memory, live updates from the
step hooks alone, and a model the optimizer sees exactly as it would without the monitor."""

import copy
import gc
import math
import time
import weakref

import numpy as np
import pytest
import torch
import traitlets
from matplotlib.figure import Figure
from torch import nn

import nnwidgets as nw
from nnwidgets.core import decode_array
from nnwidgets.core.steps import listeners_of
from nnwidgets.core.training_monitor import (
    COPY_BUDGET,
    DUTY,
    MAX_METRICS,
    MEMORY_BUDGET,
    PROBE_BUDGET,
    STATS,
    UPDATE_SAMPLE,
    Thinned,
    TrainingRecorder,
    _Budget,
    tracked_layers,
)

pytestmark = pytest.mark.usefixtures("no_model_moving")  # they count live redraws


def layer_norm(tensors) -> float:
    return math.sqrt(sum(torch.linalg.vector_norm(t.detach().double()).item() ** 2 for t in tensors))


def regression(rows=64, features=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(rows, features, generator=g), torch.randn(rows, 1, generator=g)


def train_steps(model, X, y, optimizer, steps, before=None, monitor=None, after=None):
    """A plain loop; ``before(step)`` runs after backward, before optimizer.step(), and ``after(step)``
    right after it (the test's reads)."""
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X), y)
        loss.backward()
        if before is not None:
            before(step)
        optimizer.step()
        if after is not None:
            after(step)
        if monitor is not None:
            monitor.log(loss=loss.item())


def at(history, name, step):
    return dict(history[name])[step]


def test_norms_and_exact_update_ratio_against_own_reads():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 1))
    monitor = nw.TrainingMonitor(model, duty=1.0)
    X, y = regression()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    layers = {"0": model[0], "2": model[2]}
    expected, after = {}, {}

    def before(step):
        expected[step] = {name: (layer_norm(p.grad for p in m.parameters()), [p.detach().clone() for p in m.parameters()])
                          for name, m in layers.items()}

    def read_after(step):
        after[step] = {name: [p.detach().clone() for p in m.parameters()] for name, m in layers.items()}

    train_steps(model, X, y, optimizer, 12, before, monitor, read_after)
    history = monitor.history
    # step k: the weights after step k, the gradient step k applied, and the change it made
    for step in range(1, 13):
        for name, (grad, clones) in expected[step].items():
            assert at(history, f"{name}/weight_norm", step) == pytest.approx(layer_norm(after[step][name]), rel=1e-6)
            assert at(history, f"{name}/grad_norm", step) == pytest.approx(grad, rel=1e-6)
            exact = layer_norm(a - b for a, b in zip(after[step][name], clones)) / layer_norm(clones)
            assert at(history, f"{name}/update_ratio", step) == pytest.approx(exact, rel=1e-5)
    assert [s for s, _ in history["loss"]] == list(range(1, 13))
    assert set(history) == {"loss", *(f"{n}/{s}" for n in ("0", "2") for s in STATS if s != "dead_share")}


def test_update_ratio_of_a_big_tensor_is_estimated_within_tolerance():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(300, 200), nn.ReLU(), nn.Linear(200, 1))
    assert model[0].weight.numel() > 10 * UPDATE_SAMPLE
    monitor = nw.TrainingMonitor(model, duty=1.0)
    X, y = regression(128, 300)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    clones = {}

    def before(step):
        clones[step] = [p.detach().clone() for p in model[0].parameters()]

    train_steps(model, X, y, optimizer, 6, before)
    final = [p.detach().clone() for p in model[0].parameters()]
    for step in range(1, 7):
        after = clones.get(step + 1, final)
        exact = layer_norm(a - b for a, b in zip(after, clones[step])) / layer_norm(clones[step])
        assert at(monitor.history, "0/update_ratio", step) == pytest.approx(exact, rel=0.1)


def test_dead_share_against_a_hook_on_the_tests_own_copy():
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(5, 24), nn.ReLU(), nn.Linear(24, 1))
    with torch.no_grad():
        model[0].bias[:8] -= 4.0  # some units start (nearly) dead
    X = np.random.default_rng(0).normal(size=(600, 5)).astype(np.float32)
    y = torch.from_numpy(X[:, :1] * 2.0)
    monitor = nw.TrainingMonitor(model, X, duty=1.0)
    assert len(monitor.probe_rows) == 256
    probe = torch.from_numpy(X[monitor.probe_rows])
    expected = {}

    def after(step):  # the model after the step, on the test's own copy
        mine = copy.deepcopy(model).eval()
        seen = []
        mine[1].register_forward_hook(lambda _m, _i, out: seen.append(out.detach()))
        with torch.no_grad():
            mine(probe)
        expected[step] = (seen[0] <= 0).all(dim=0).double().mean().item()

    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    train_steps(model, torch.from_numpy(X), y, optimizer, 8, after=after)
    assert [s for s, _ in monitor.history["0/dead_share"]] == list(range(1, 9))
    for step, share in expected.items():
        assert at(monitor.history, "0/dead_share", step) == pytest.approx(share, abs=1e-12)
    assert len(set(expected.values())) > 1 and any(share > 0 for share in expected.values())
    assert "2/dead_share" not in monitor.history  # no rectifier after the last layer


def test_dead_share_layers_follow_the_rectifier_after_a_norm_layer():
    model = nn.Sequential(nn.Conv1d(2, 4, 3), nn.BatchNorm1d(4), nn.LeakyReLU(), nn.Flatten(), nn.Linear(8, 2), nn.Sigmoid())
    assert [(t.name, t.rectifier) for t in tracked_layers(model)] == [("0", "2"), ("1", ""), ("4", "")]


def test_too_high_learning_rate_warns_about_the_update_ratio_and_a_sane_one_does_not():
    X, y = regression(128, 6, seed=3)
    for lr, warned in ((0.3, True), (1e-3, False)):
        torch.manual_seed(3)
        model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 1))
        monitor = nw.TrainingMonitor(model, duty=1.0)
        train_steps(model, X, y, torch.optim.SGD(model.parameters(), lr=lr), 20, monitor=monitor)
        kinds = {w["kind"] for w in monitor.warnings}
        assert ("update_ratio_high" in kinds) is warned, monitor.warnings
        for w in monitor.warnings:
            assert set(w) == {"kind", "layer", "step", "text"} and w["layer"] in ("0", "2") and w["text"]


def test_deep_net_with_huge_init_warns_about_exploding_gradients():
    torch.manual_seed(4)
    layers = []
    for _ in range(12):
        layers += [nn.Linear(32, 32), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(32, 1))
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(6.0)
    monitor = nw.TrainingMonitor(model, duty=1.0)
    X, y = regression(64, 32, seed=4)
    train_steps(model, X, y, torch.optim.SGD(model.parameters(), lr=0.01), 6, monitor=monitor)
    exploding = [w for w in monitor.warnings if w["kind"] == "exploding_gradients"]
    assert exploding and "gradient" in exploding[0]["text"]
    assert monitor.warnings == list(monitor.warnings)  # a synced trait: plain dicts


def test_vanishing_gradients_in_a_deep_sigmoid_net():
    torch.manual_seed(5)
    layers = []
    for _ in range(20):
        layers += [nn.Linear(16, 16), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(16, 1))
    monitor = nw.TrainingMonitor(model, duty=1.0)
    X, y = regression(64, 16, seed=5)
    train_steps(model, X, y, torch.optim.SGD(model.parameters(), lr=0.01), 8, monitor=monitor)
    vanishing = {w["layer"] for w in monitor.warnings if w["kind"] == "vanishing_gradients"}
    assert "0" in vanishing and "40" not in vanishing


def test_memory_stays_bounded_over_many_steps():
    torch.manual_seed(6)
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    X, y = regression(8, 2)
    monitor = nw.TrainingMonitor(model, X.numpy(), duty=1.0)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    sizes = []
    for _ in range(2):
        train_steps(model, X, y, optimizer, 4500, monitor=monitor)
        sizes.append(monitor.memory_bytes)
    rec = monitor.recorder
    assert rec.step == 9000 and rec.samples == 9000
    assert sizes[0] == sizes[1] <= MEMORY_BUDGET
    assert all(len(pairs) <= 4096 for pairs in monitor.history.values())
    assert monitor.history["loss"][0][0] == 1 and monitor.history["loss"][-1][0] > 8000  # thinned, not forgotten
    steps = rec.snapshot_steps()
    assert len(steps) <= rec.snapshots.capacity and steps[0] == 1 and steps[-1] > 4000


def test_worst_case_memory_for_many_layers_fits_the_budget():
    model = nn.Sequential(*[nn.Linear(64, 64) for _ in range(1500)])
    rec = TrainingRecorder(model)
    n = len(rec.layers)
    assert n == 1024  # the first 1024 layers are tracked
    history = rec.layer_history.points * 16 * len(STATS) * n
    pictures = rec.snapshots.capacity * n * (4 * rec.snapshot_cells + 256)
    metrics = MAX_METRICS * 4096 * 16
    assert history + pictures + metrics + COPY_BUDGET + PROBE_BUDGET <= MEMORY_BUDGET
    rec.close()


class _Branches(nn.Module):
    """Many layers side by side (each gets a healthy gradient, unlike a 1000-deep chain): ``big``
    Linear(64, 65) + ReLU branches of 4160 weights, over ``UPDATE_SAMPLE`` (compared on a sample), and
    ``small`` Linear(4, 8) + ReLU ones (compared whole)."""

    def __init__(self, big, small):
        super().__init__()
        self.branches = nn.ModuleList([nn.Sequential(nn.Linear(64, 65), nn.ReLU()) for _ in range(big)]
                                      + [nn.Sequential(nn.Linear(4, 8), nn.ReLU()) for _ in range(small)])

    def forward(self, x):
        return torch.stack([b(x[:, : b[0].in_features]).mean(1) for b in self.branches], 1).mean(1, keepdim=True)


def test_a_thousand_layers_stay_under_the_budget_with_exact_ratios_for_small_tensors():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 1000 small ops a step: intra-op workers would only contend
    try:
        _thousand_layers()
    finally:
        torch.set_num_threads(threads)


def _thousand_layers():
    torch.manual_seed(14)
    model = _Branches(980, 20)
    assert model.branches[0][0].weight.numel() > UPDATE_SAMPLE
    X, y = regression(16, 64, seed=14)
    monitor = nw.TrainingMonitor(model, X.numpy(), duty=1.0)  # X: the dead share too (all four series)
    rec = monitor.recorder
    assert len(rec.layers) == 1000
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    small = {f"branches.{i}.0": model.branches[i][0] for i in range(980, 1000)}
    big = {f"branches.{i}.0": model.branches[i][0] for i in range(0, 980, 97)}
    clones, sizes = {}, []
    steps = 5
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X), y)
        loss.backward()
        clones[step] = {name: [p.detach().clone() for p in m.parameters()] for name, m in {**small, **big}.items()}
        optimizer.step()
        monitor.log(loss=loss.item(), **{f"metric{j}": float(step * j) for j in range(MAX_METRICS - 1)})
        sizes.append(monitor.memory_bytes)
    assert rec.samples == rec.heavy_samples == steps and len(rec.snapshot_steps()) == steps
    assert max(sizes) <= MEMORY_BUDGET, [round(s / 1e6, 1) for s in sizes]  # the series are full from the start
    history = monitor.history
    for step in range(1, steps + 1):
        for name, m in {**small, **big}.items():
            after = [p.detach() for p in m.parameters()] if step == steps else clones[step + 1][name]
            exact = layer_norm(a - b for a, b in zip(after, clones[step][name])) / layer_norm(clones[step][name])
            # small tensors are compared whole: exact; the big ones on a strided sample: an estimate
            tolerance = 1e-5 if name in small else 0.25
            assert at(history, f"{name}/update_ratio", step) == pytest.approx(exact, rel=tolerance), (name, step)
            assert at(history, f"{name}/weight_norm", step) == pytest.approx(layer_norm(after), rel=1e-5)


def test_thinned_store_keeps_an_even_spread():
    t = Thinned(4)
    for step in range(20):
        t.add(step, step if t.wants() else None)
    assert [s for s, _ in t.items] == [0, 8, 16] and all(item is not None for _, item in t.items)


def test_scrubbing_shows_the_model_after_the_step_everywhere():
    """Step k is the model after optimizer step k: the slider's steps, snapshot_at, the page's
    payloads and .figure() agree with the test's own clones of the weights after each step."""
    torch.manual_seed(7)
    model = nn.Sequential(nn.Linear(5, 12), nn.ReLU(), nn.Linear(12, 300))  # "2": 300×12, pooled
    monitor = nw.TrainingMonitor(model, duty=1.0)
    X, y = regression(32, 5)
    y = y.repeat(1, 300) * torch.linspace(-1, 1, 300)
    after = {}
    train_steps(model, X, y, torch.optim.Adam(model.parameters(), lr=0.05), 10,
                after=lambda step: after.setdefault(step, {name: [p.detach().clone() for p in model[int(name)].parameters()]
                                                           for name in ("0", "2")}))
    rec = monitor.recorder
    monitor.inspector.refresh()  # the page's records now (live refreshes are paced)
    assert decode_array(monitor.snapshot_steps).tolist() == rec.snapshot_steps() == list(range(1, 11))
    for k in (1, 4, 9):
        monitor.step = k
        assert monitor.heatmap["step"] == k and not monitor.heatmap["live"]
        assert np.array_equal(decode_array(monitor.heatmap["values"]), after[k]["0"][0].numpy())  # 12×5: exact
        shown, heat = rec.snapshot_at(k, "0")
        assert shown == k and np.array_equal(heat.values, after[k]["0"][0].numpy())
        assert monitor.step_stats["step"] == k and monitor.step_stats["weight_norm_step"] == k
        assert monitor.step_stats["weight_norm"] == pytest.approx(layer_norm(after[k]["0"]), rel=1e-6)
        if k > 1:
            assert not np.array_equal(heat.values, after[k - 1]["0"][0].numpy())
    # step N and -1 (latest) both show the model after the last step, labelled N
    final = [p.detach().clone() for p in model[0].parameters()]
    assert all(torch.equal(a, b) for a, b in zip(final, after[10]["0"]))
    shown = {}
    for step in (10, -1):
        monitor.step = step
        shown[step] = (monitor.heatmap["step"], decode_array(monitor.heatmap["values"]), dict(monitor.step_stats))
        assert shown[step][0] == 10 and np.array_equal(shown[step][1], final[0].numpy())
    assert shown[10][2] == shown[-1][2] and shown[10][2]["weight_norm"] == pytest.approx(layer_norm(final), rel=1e-6)
    assert monitor.heatmap["live"] and not decode_array(monitor.snapshot_steps).tolist()[-1] > 10
    monitor.step = 50  # past the last step: the model now, labelled with the step it is at
    assert monitor.heatmap["step"] == 10
    # a pooled layer: its shape and its signed extreme, against the test's own clone after step 6
    monitor.selected_layer = "2"
    monitor.step = 6
    values, weight = decode_array(monitor.heatmap["values"]), after[6]["2"][0].numpy()
    assert monitor.heatmap["layer"] == "2" and monitor.heatmap["shape"] == [300, 12] and values.size < 300 * 12
    assert values.flat[np.abs(values).argmax()] == weight.flat[np.abs(weight).argmax()]
    assert values.min() == weight.min() or values.max() == weight.max()
    assert monitor.step_stats["weight_norm"] == pytest.approx(layer_norm(after[6]["2"]), rel=1e-6)
    # the figure marks the step shown, and says what it is
    fig = monitor.figure()
    assert fig._suptitle.get_text() == "step 6: the model after optimizer step 6"
    marked = [ax for ax in fig.axes if any(list(line.get_xdata()) == [6, 6] for line in ax.lines)]
    assert len(marked) == len([ax for ax in fig.axes if ax.lines]) > 0
    monitor.step = -1
    assert monitor.figure()._suptitle is None
    monitor.selected_layer = "1"
    assert monitor.heatmap == {} and "ReLU" in monitor.message
    with pytest.raises(traitlets.TraitError, match="step must be -1"):
        monitor.step = -3


def test_while_a_step_writes_the_weights_they_are_labelled_with_the_step_before():
    torch.manual_seed(15)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    monitor = nw.TrainingMonitor(model, duty=1.0)
    rec = monitor.recorder
    seen = []

    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    # the optimizer's own pre-hook runs after torch's global ones (the monitor's, which read the weights for a
    # sample): step k has begun, the weights are still those after step k - 1, and steps are counted once done
    optimizer.register_step_pre_hook(lambda *_: seen.append((rec.step, rec.picture_at(-1, "0")[0])))
    X, y = regression(8, 3)
    train_steps(model, X, y, optimizer, 3)
    assert seen == [(0, 0), (1, 1), (2, 2)]
    assert rec.step == 3 and rec.picture_at(-1, "0")[0] == 3


def test_selected_layer_is_shared_with_other_views():
    torch.manual_seed(8)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    inspector = nw.Inspector(model)
    monitor = nw.TrainingMonitor(inspector)
    heat = nw.WeightHeatmap(inspector)
    assert monitor.selected_layer == "0" and monitor.layers == ["0", "2"]
    monitor.selected_layer = "2"
    assert inspector.selected_layer == "2" and heat.layer == "2"
    inspector.selected_layer = "0"
    assert monitor.selected_layer == "0"


def test_log_steps_and_payloads():
    torch.manual_seed(9)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    monitor = nw.TrainingMonitor(model)
    monitor.log(loss=1.0)
    monitor.log(loss=0.5, accuracy=torch.tensor(0.25))
    assert monitor.history["loss"] == [(1, 1.0), (2, 0.5)] and monitor.history["accuracy"] == [(2, 0.25)]
    X, y = regression(8, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train_steps(model, X, y, optimizer, 3)
    monitor.log(loss=0.1)
    assert monitor.history["loss"][-1] == (5, 0.1)  # 2 from logs + 3 optimizer steps
    monitor.inspector.refresh()
    curves = monitor.curves
    assert curves["names"] == ["loss", "accuracy"]
    assert decode_array(curves["series"][0]["steps"]).tolist() == [1, 2, 5]
    assert isinstance(curves["series"][0]["values"]["buffer"], bytes)
    stats = monitor.layer_stats
    assert stats["layers"] == ["0", "2"]
    grads = decode_array(stats["grad_norm"])
    assert grads.shape == (2, len(decode_array(stats["steps"]))) and np.isfinite(grads).all()
    assert monitor.total_steps == 5


def test_record_metrics_says_how_long_ago_the_last_step_ended():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    rec = TrainingRecorder(model)
    assert rec.record_metrics({"loss": 1.0}) == (1, math.inf)  # no step at all
    X, y = regression(8, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train_steps(model, X, y, optimizer, 2)
    before = time.perf_counter()
    step, since = rec.record_metrics({"loss": 0.5})
    assert step == 3 and 0.0 <= since <= time.perf_counter() - before + 1.0
    assert rec.record_metrics({"loss": 0.25}) == (4, math.inf)  # no step since the last call
    assert rec.history()["loss"] == [(1, 1.0), (3, 0.5), (4, 0.25)]
    rec.close()


def test_a_failed_sample_in_a_step_hook_never_reaches_the_loop(monkeypatch):
    """A step whose sampled reads fail is reported as a warning; the loop's next monitor.log still records."""
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    monitor = nw.TrainingMonitor(model, duty=1.0)
    record = TrainingRecorder._record
    calls = []

    def failing_once(self, pending):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a read failed")
        return record(self, pending)

    monkeypatch.setattr(TrainingRecorder, "_record", failing_once)
    X, y = regression(8, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.warns(RuntimeWarning, match="after_step failed: RuntimeError: a read failed"):
        train_steps(model, X, y, optimizer, 3, monitor=monitor)  # logs after each step
    assert [s for s, _ in monitor.history["loss"]] == [1, 2, 3]
    assert monitor.recorder.step == 3 and len(calls) == 3


def test_bad_input_is_refused_clearly():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        nw.TrainingMonitor("not a model")
    model = nn.Linear(2, 1)
    with pytest.raises(ValueError, match="duty"):
        nw.TrainingMonitor(model, duty=0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        nw.TrainingMonitor(model, colour="red")
    monitor = nw.TrainingMonitor(model)
    with pytest.raises(TypeError, match="must be a number"):
        monitor.log(loss="low")
    with pytest.raises(ValueError, match="one number"):
        monitor.log(loss=torch.ones(3))
    with pytest.raises(TypeError, match="at least one metric"):
        monitor.log()
    with pytest.raises(ValueError, match="layer statistics"):
        monitor.log(**{"/weight_norm": 1.0})


def test_figure_draws_curves_and_small_multiples():
    torch.manual_seed(10)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    monitor = nw.TrainingMonitor(model, duty=1.0)
    assert isinstance(monitor.figure(), Figure)  # nothing recorded: says so
    X, y = regression(8, 3)
    train_steps(model, X, y, torch.optim.SGD(model.parameters(), lr=0.1), 5, monitor=monitor)
    fig = monitor.figure()
    assert isinstance(fig, Figure) and len(fig.axes) == 1 + 2 * 3
    assert any(ax.get_yscale() == "log" for ax in fig.axes)


def test_updates_from_the_step_hooks_alone_while_a_script_loop_runs():
    """No notebook, no log(): the optimizer's steps alone move the monitor's traits during the loop."""
    torch.manual_seed(11)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    monitor = nw.TrainingMonitor(model)
    X, y = regression(16, 4)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
    seen = set()
    deadline = time.monotonic() + 2.5
    steps = 0
    while time.monotonic() < deadline:
        optimizer.zero_grad()
        nn.functional.mse_loss(model(X), y).backward()
        optimizer.step()
        steps += 1
        seen.add(monitor.total_steps)
        time.sleep(0.005)
    assert len(seen - {0}) >= 3, seen  # the trait moved several times while the loop ran
    deadline = time.monotonic() + 10
    while monitor.total_steps != steps and time.monotonic() < deadline:
        time.sleep(0.05)
    assert monitor.total_steps == steps
    rec = monitor.recorder
    assert 1 <= rec.samples < steps and rec.overhead < 0.05  # sampled under the duty budget


def _train_run(with_monitor: bool):
    torch.manual_seed(12)
    model = nn.Sequential(nn.Linear(6, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 32),
                          nn.ReLU(), nn.Linear(32, 2)).train()
    X, y = regression(96, 6, seed=12)
    y = torch.cat([y, y * 0.5], 1)
    views = []
    if with_monitor:
        inspector = nw.Inspector(model, X.numpy())
        views = [nw.TrainingMonitor(inspector, duty=1.0), nw.WeightHeatmap(inspector), nw.LayerBars(inspector)]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
    for step in range(40):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
        if views:
            views[0].log(loss=loss.item())
            if step % 10 == 0:
                views[0].step = -1 if step % 20 else max(1, step - 5)
                views[0].selected_layer = "4"
    if views:
        for view in views:
            view.inspector.refresh()
        assert views[0].recorder.samples == 40 and "0/dead_share" in views[0].history
    return model, optimizer


def _bits(t):
    return t.detach().reshape(-1).contiguous().view(torch.uint8)


def test_training_is_bitwise_identical_with_and_without_the_monitor():
    plain, plain_opt = _train_run(False)
    watched, watched_opt = _train_run(True)
    for (name, a), (_, b) in zip(plain.state_dict().items(), watched.state_dict().items()):
        assert torch.equal(_bits(a) if a.is_floating_point() else a, _bits(b) if b.is_floating_point() else b), name
    for a, b in zip(plain.parameters(), watched.parameters()):
        assert torch.equal(_bits(a.grad), _bits(b.grad))
    sa, sb = plain_opt.state_dict(), watched_opt.state_dict()
    assert sa["param_groups"] == sb["param_groups"] and sa["state"].keys() == sb["state"].keys()
    for k in sa["state"]:
        for key, value in sa["state"][k].items():
            other = sb["state"][k][key]
            assert torch.equal(_bits(value), _bits(other)) if value.is_floating_point() else torch.equal(value, other), (k, key)
    assert all(m.training for m in watched.modules())
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in watched.modules())


def _digits_run(lr, steps=300, seconds=0.0):
    """The digits example: full-batch SGD on a small MLP, watched with the default duty, for ``steps``
    steps and, past those, until the loop has run ``seconds`` (a fast machine's 300 steps take 0.5 s,
    while torch's first optimizer takes 1 s to build: the rate of samples is then in the noise). Returns the
    monitor, the test's own update ratios of layer "0" at every step, and the share of wall time the
    sampled steps spent in the recorder's step hooks by the test's own clock (the training thread's
    CPU time, as the recorder counts it)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = torch.tensor(digits.data / 16, dtype=torch.float32)
    y = torch.tensor(digits.target)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    started = time.perf_counter()
    monitor = nw.TrainingMonitor(model, X.numpy())
    rec = monitor.recorder
    hook_seconds = [0.0, 0.0]  # this step's time in the hooks so far, the sampled steps' in all
    before_step, after_step = rec.before_step, rec.after_step

    def timed_before(optimizer):
        t = time.thread_time()
        before_step(optimizer)
        hook_seconds[0] = time.thread_time() - t

    def timed_after(optimizer):
        count = rec.samples + rec.heavy_samples
        t = time.thread_time()
        after_step(optimizer)
        if rec.samples + rec.heavy_samples != count:  # a sampled step: its statistics' time, both hooks
            hook_seconds[1] += hook_seconds[0] + time.thread_time() - t

    rec.before_step, rec.after_step = timed_before, timed_after  # the step listener calls these, here
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    ratios = {}
    loop_started = time.perf_counter()
    step = 0
    while step < steps or time.perf_counter() - loop_started < seconds:
        step += 1
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(X), y)
        loss.backward()
        before = [p.detach().clone() for p in model[0].parameters()]
        optimizer.step()
        ratios[step] = layer_norm(a - b for a, b in zip(model[0].parameters(), before)) / layer_norm(before)
        monitor.log(loss=loss.item())
    wall = time.perf_counter() - started
    return monitor, ratios, hook_seconds[1] / wall


def test_after_a_pause_a_tier_takes_one_sample_at_once_not_a_burst():
    budget = _Budget(share=0.01, warmup=0, started=0.0)  # 50 ms samples at 1 %: about one per 5 s
    assert budget.due(0.0)
    budget.paid(0.05)
    assert not budget.due(1.0)
    assert budget.due(100.0)  # the loop starts again after a long pause: one sample at once...
    budget.paid(0.05)
    assert not budget.due(100.1)  # ...not a second (on a 100 M-parameter model each costs ~45 ms)
    assert budget.due(105.1)


def test_a_small_model_is_sampled_often_under_the_duty():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # on a shared machine, intra-op workers' spin-waits would count as statistics time
    try:
        monitor, ratios, hooks_share = _digits_run(0.2, seconds=0.015 / DUTY)  # the default duty buys 15 ms of statistics
    finally:
        torch.set_num_threads(threads)
    rec = monitor.recorder
    sampled = monitor.history["0/update_ratio"]
    assert len(sampled) >= 10, (len(sampled), rec.samples, rec.overhead, rec.stat_seconds)  # 2-5 before the tiers
    assert rec.overhead <= rec.duty and hooks_share <= rec.duty, (rec.overhead, hooks_share)
    for step, value in sampled:  # each sample is the step's own ratio (the test's clones around the step)
        assert value == pytest.approx(ratios[step], rel=1e-5)
    assert 1 <= rec.heavy_samples < rec.samples and len(monitor.history["0/dead_share"]) == rec.heavy_samples


def test_a_too_high_learning_rate_is_caught_before_the_units_die():
    monitor, ratios, _ = _digits_run(5.0)
    assert all(ratios[step] > 1e-2 for step in (1, 2, 3))  # the test's own ratios: far too large at first
    high = [w for w in monitor.warnings if w["kind"] == "update_ratio_high" and w["layer"] == "0"]
    assert high and high[0]["step"] <= 10, monitor.warnings
    monitor, _, _ = _digits_run(1e-3)
    assert not any(w["kind"].startswith("update_ratio") for w in monitor.warnings), monitor.warnings


class _Mixed(nn.Module):
    """float32, float64 and bfloat16 layers, a big one (subsampled update ratio) and a frozen one."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 8)
        self.b = nn.Linear(8, 4).double()
        self.c = nn.Linear(4, 1).to(torch.bfloat16)
        self.frozen = nn.Linear(1, 1)
        self.frozen.requires_grad_(False)

    def forward(self, x):
        h = torch.tanh(self.b(torch.tanh(self.a(x)).double()))
        return self.frozen(self.c(h.to(torch.bfloat16)).float())


def test_mixed_dtypes_frozen_parameters_and_replaced_storage_against_own_reads():
    torch.manual_seed(13)
    model = _Mixed()
    monitor = nw.TrainingMonitor(model, duty=0.2)  # sampled: steps between the heavy tier's structure checks too
    X, y = regression(32, 6, seed=13)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.5)
    layers = {"a": model.a, "b": model.b, "c": model.c}
    reads = {}
    for step in range(1, 121):
        if step == 5:  # new storage under the same parameter objects (the monitor must read the new one)
            with torch.no_grad():
                model.b.weight.data = model.b.weight.data.clone()
        optimizer.zero_grad()
        nn.functional.mse_loss(model(X), y).backward()
        reads[step] = {name: (layer_norm(m.parameters()), layer_norm(p.grad for p in m.parameters()),
                              [p.detach().clone() for p in m.parameters()]) for name, m in layers.items()}
        optimizer.step()
        for name, m in layers.items():
            weight, grad, before = reads[step][name]
            exact = layer_norm(p - b for p, b in zip(m.parameters(), before)) / weight
            reads[step][name] = (layer_norm(m.parameters()), grad, exact)  # step k: the weights after it
    history = monitor.history
    sampled = [s for s, _ in history["a/update_ratio"]]
    assert sampled[:3] == [1, 2, 3] and len([s for s in sampled if s > 5]) >= 2, sampled
    for step in sampled:
        for name, (weight, grad, ratio) in reads[step].items():
            assert at(history, f"{name}/weight_norm", step) == pytest.approx(weight, rel=1e-5)
            assert at(history, f"{name}/grad_norm", step) == pytest.approx(grad, rel=1e-5)
            assert at(history, f"{name}/update_ratio", step) == pytest.approx(ratio, rel=1e-4)
    assert not any(name.startswith("frozen/") for name in history)  # a layer the optimizer does not update


def test_the_last_logged_value_is_drawn_after_a_burst_faster_than_the_live_rate():
    model = nn.Sequential(nn.Linear(3, 1))
    monitor = nw.TrainingMonitor(model, live_rate=1.0)
    for i in range(20):  # no optimizer: only log() moves it, faster than one redraw a second
        monitor.log(loss=float(i))
    assert monitor.inspector.wait_for_pause(10)  # the settle after the burst draws what was skipped
    drawn = decode_array(monitor.curves["series"][0]["values"])
    assert drawn[-1] == 19.0 and decode_array(monitor.curves["series"][0]["steps"])[-1] == 20


def test_a_value_logged_after_the_steps_session_ended_is_drawn():
    """Per epoch: steps, an evaluation longer than the pause detection, then its result logged (a step
    was heard since the last log, but no live refresh will come any more)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    monitor = nw.TrainingMonitor(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
    X, y = torch.randn(32, 4), torch.randn(32, 1)
    for epoch in range(2):
        for _ in range(5):
            optimizer.zero_grad()
            nn.functional.mse_loss(model(X), y).backward()
            optimizer.step()
        deadline = time.monotonic() + 20
        while monitor.inspector.training and time.monotonic() < deadline:  # the evaluation outlasts the session
            time.sleep(0.02)
        assert not monitor.inspector.training
        monitor.log(val_loss=100.0 + epoch)
    assert monitor.history["val_loss"] == [(5, 100.0), (10, 101.0)]

    def drawn():
        curves = monitor.curves
        if "val_loss" not in curves.get("names", []):
            return [], []
        series = curves["series"][curves["names"].index("val_loss")]
        return decode_array(series["steps"]).tolist(), decode_array(series["values"]).tolist()

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(drawn()[0]) < 2:
        time.sleep(0.02)
    assert drawn() == ([5, 10], [100.0, 101.0])


def test_duty_set_while_training_takes_effect_at_once_without_burst_or_debt():
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    monitor = nw.TrainingMonitor(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
    X, y = torch.randn(64, 8), torch.randint(0, 2, (64,))

    def train(steps=None, seconds=None):
        """Steps taken and samples recorded meanwhile."""
        before, done, start = monitor.recorder.samples, 0, time.monotonic()
        while (steps is None or done < steps) and (seconds is None or time.monotonic() - start < seconds):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(X), y).backward()
            optimizer.step()
            done += 1
        return done, monitor.recorder.samples - before

    train(seconds=0.3)
    monitor.duty = 1.0
    assert monitor.duty == 1.0 and train(steps=40) == (40, 40)  # every step, from the next one
    monitor.duty = 0.002
    steps, samples = train(seconds=2.0)  # what duty 1 spent is not a debt: sampling goes on within the second
    assert 1 <= samples and samples * 20 < steps, (steps, samples)
    for bad in (0, 1.5, True, "high"):
        with pytest.raises(ValueError, match="duty"):
            monitor.duty = bad
    assert monitor.duty == 0.002
    monitor.close()


def test_a_closed_monitor_lets_its_inspector_and_the_step_hooks_go_and_keeps_its_records():
    """The user keeps the closed monitor (its variable in the notebook): its records stay readable, but
    nothing of it holds the inspector any more, so nnwidgets stops hearing the model's steps."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 1))
    X, y = regression()
    inspector = nw.Inspector(model, X.numpy(), mode="regression")
    monitor = nw.TrainingMonitor(inspector)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    for _ in range(20):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
        monitor.log(loss=loss.item())
    assert listeners_of(optimizer)  # the inspector's and the monitor's
    monitor.close()
    gone = weakref.ref(inspector)
    del inspector
    deadline = time.monotonic() + 30  # the ticker lets go of a model once its session ends
    while gone() is not None and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.02)
    assert gone() is None
    assert listeners_of(optimizer) == []
    monitor.log(loss=0.5)  # the user's loop goes on (a thread's, or a cell re-run closed the monitor): no error,
    assert [step for step, _ in monitor.history["loss"]] == list(range(1, 21))  # and nothing recorded


def test_a_step_that_raised_leaves_no_reads_for_a_later_step():
    """A step raises after the sampling before-hook read the weights (its closure raises); then the duty
    drops, so the next step is not read before: it must not be recorded with the failed step's reads."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    rec = TrainingRecorder(model, duty=1.0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    X, y = torch.randn(32, 8), torch.randn(32, 1)
    grad_norms = {}

    def fail():
        raise RuntimeError("the step failed")

    def step(scale=1.0, closure=None):
        optimizer.zero_grad()
        nn.functional.mse_loss(model(X * scale), y).backward()
        norm = torch.cat([p.grad.flatten() for p in model[0].parameters()]).norm().item()
        optimizer.step(closure)
        grad_norms[rec.step] = norm

    for _ in range(3):
        step()
    with pytest.raises(RuntimeError, match="failed"):
        step(scale=100.0, closure=fail)  # a large gradient: its reads would be far from any good step's
    rec.duty = 0.001
    step()
    assert rec.step == 4 == len(grad_norms)
    for s, value in rec.history()["0/grad_norm"]:
        assert value == pytest.approx(grad_norms[s], rel=1e-5), s
    rec.close()


def test_optimizers_over_different_layers_made_and_dropped_in_turn_are_each_read_right():
    """A new optimizer often takes the id of one just dropped; with as many parameters, it is another one."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 4))  # layers "0" and "2": 40 and 36 values
    rec = TrainingRecorder(model, duty=1.0)
    for i in range(20):
        layer = model[0] if i % 2 == 0 else model[2]
        optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
        model.zero_grad()
        model(torch.randn(16, 4)).pow(2).mean().backward()
        optimizer.step()
        del optimizer
    history = rec.history()
    for step in range(1, 21):
        moved = "0" if step % 2 == 1 else "2"
        ratios = {name: value for name in ("0", "2") for s, value in history.get(f"{name}/update_ratio", []) if s == step}
        assert set(ratios) == {moved} and ratios[moved] > 0, (step, ratios)
    rec.close()


def test_a_refused_metric_name_changes_nothing():
    rec = TrainingRecorder(nn.Sequential(nn.Linear(2, 1)))
    assert rec.log(loss=1.0) == 1
    with pytest.raises(ValueError, match="layer statistics"):
        rec.log(loss=2.0, **{"0/grad_norm": 1.0})
    assert rec.step == 1 and rec.history()["loss"] == [(1, 1.0)]
    assert rec.log(loss=3.0) == 2
    with pytest.raises(ValueError, match="non-empty strings"):
        rec.log(**{"": 4.0})  # a name no keyword could spell, with the float that takes the quick path
    with pytest.raises(TypeError, match="must be a number"):
        rec.log(loss=5.0, accuracy="high")
    assert rec.step == 2 and rec.history()["loss"] == [(1, 1.0), (2, 3.0)] and "accuracy" not in rec.history()
    rec.close()


def test_a_sampled_steps_slowdown_beyond_its_charge_is_paid_by_its_tier():
    """A planted timeline of step ends: 1 ms steps; a sample charged 0.2 ms (its own interval holds that
    time, and is not a usual one) followed by a 2.5 ms step pays the 1.5 ms beyond the usual step; one
    followed by a step that also sampled (charged 0.3 ms) and took 2.5 ms pays the 1.2 ms beyond both; one
    followed by a 1 s pause pays at most ten times its charge; a slow step after no sample is nobody's."""
    rec = TrainingRecorder(nn.Sequential(nn.Linear(2, 1)))
    tier = rec._cheap
    t = 0.0
    for _ in range(10):
        rec._charge_aftermath(t)
        t += 0.001
    rec._charge_aftermath(t)
    spent = tier.spent
    t += 0.0012
    rec._charge_aftermath(t, (tier, 0.0002))
    assert tier.spent == spent  # the sample's own interval: its CPU time was charged where it was measured
    t += 0.0025
    rec._charge_aftermath(t)
    assert tier.spent - spent == pytest.approx(0.0015)
    spent = tier.spent
    t += 0.0012
    rec._charge_aftermath(t, (tier, 0.0002))
    t += 0.0025
    rec._charge_aftermath(t, (tier, 0.0003))
    assert tier.spent - spent == pytest.approx(0.0012)
    spent = tier.spent
    t += 0.001
    rec._charge_aftermath(t)  # the second sample's aftermath: a usual step
    assert tier.spent == pytest.approx(spent)
    t += 0.0012
    rec._charge_aftermath(t, (tier, 0.0002))
    t += 1.0
    rec._charge_aftermath(t)
    assert tier.spent - spent == pytest.approx(0.002)
    spent = tier.spent
    t += 0.005  # slow, but not sampled
    rec._charge_aftermath(t)
    assert tier.spent == spent
    rec.close()
