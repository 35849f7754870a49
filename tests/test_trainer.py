"""nw.Trainer: training numbers against the test's own computation, exact reset, background play,
the IPython cell gate, errors that leave it usable, paced page updates."""

import copy
import threading
import time

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

import nnwidgets as nw
from nnwidgets import _cells
from nnwidgets.core import decode_array
from nnwidgets.core.live import ticker
from nnwidgets.core.trainer_pacer import Pacer


def separable(rows=512, seed=0):
    """Two classes split by the plane x0 − x1 = 0, with a margin."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(rows, 4, generator=g)
    X = X[(X[:, 0] - X[:, 1]).abs() > 0.3]
    return X, (X[:, 0] > X[:, 1]).long()


def mlp(seed=0, inputs=4, classes=2):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(inputs, 16), nn.ReLU(), nn.Linear(16, classes))


def until(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def full_loss(model, X, y):
    with torch.no_grad():
        return nn.functional.cross_entropy(model(X), y).item()


def test_loss_falls_on_a_planted_separable_problem():
    X, y = separable()
    net = mlp()
    trainer = nw.Trainer(net, X, y, loss="cross_entropy", optimizer="adam", lr=1e-2, batch_size=32)
    before = full_loss(net, X, y)
    last = trainer.step(200)
    after = full_loss(net, X, y)
    assert after < 0.2 * before and after < 0.15
    assert trainer.step_count == 200 and last == trainer.history["loss"][-1][1]
    with torch.no_grad():
        assert (net(X).argmax(1) == y).float().mean() > 0.97
    assert trainer.history["accuracy"][-1][1] >= 0.9


def test_history_is_each_batch_loss_rebuilt_by_the_test_from_the_seed():
    X, y = separable(200)
    net = mlp(seed=3)
    batch_size = 48  # does not divide the rows: the epoch's last batch is shorter
    trainer = nw.Trainer(net, X, y, lr=5e-3, batch_size=batch_size, seed=7)
    g = torch.Generator().manual_seed(7)
    expected = []
    order = torch.randperm(len(X), generator=g)
    position = seen = 0
    for _ in range(15):
        rows = order[position:position + batch_size]
        position += len(rows)
        seen += len(rows)
        if position >= len(X):
            order, position = torch.randperm(len(X), generator=g), 0
        with torch.no_grad():  # the model as it is before this step, on the batch the seed says
            outputs = net(X[rows])
        expected.append((nn.functional.cross_entropy(outputs, y[rows]).item(),
                         (outputs.argmax(1) == y[rows]).float().mean().item()))
        trainer.step()
    losses = [v for _, v in trainer.history["loss"]]
    accuracies = [v for _, v in trainer.history["accuracy"]]
    assert [s for s, _ in trainer.history["loss"]] == list(range(1, 16))
    np.testing.assert_allclose(losses, [e[0] for e in expected], rtol=1e-6)
    np.testing.assert_allclose(accuracies, [e[1] for e in expected], rtol=1e-6)
    assert trainer.epoch == seen / len(X) and seen < 15 * batch_size


def test_same_seed_repeats_the_run_and_regression_uses_mse():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(100, 3, generator=g)
    y = X @ torch.tensor([1.0, -2.0, 0.5])
    runs = []
    for _ in range(2):
        net = mlp(seed=1, inputs=3, classes=1)
        trainer = nw.Trainer(net, X, y, lr=1e-2, batch_size=16)
        assert trainer.loss == "mse"
        trainer.step(30)
        runs.append(trainer.history["loss"])
    assert runs[0] == runs[1]
    assert "accuracy" not in trainer.history
    with torch.no_grad():
        mse = nn.functional.mse_loss(net(X)[:, 0], y).item()
    assert mse < runs[0][0][1]


def test_reset_gives_bitwise_initial_state_in_the_same_tensors():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    initial = copy.deepcopy(net.state_dict())
    tensors = [id(t) for t in (*net.parameters(), *net.buffers())]
    X, y = separable(128)
    trainer = nw.Trainer(net, X, y, optimizer="sgd_momentum", lr=0.1, batch_size=16)
    first_run = (trainer.step(20), trainer.history)
    assert not torch.equal(net[0].weight, initial["0.weight"])
    assert net[1].num_batches_tracked.item() == 20
    old_optimizer = trainer.torch_optimizer
    trainer.reset()
    assert trainer.step_count == 0 and trainer.history == {} and trainer.epoch == 0
    state = net.state_dict()
    for name, value in initial.items():
        assert torch.equal(state[name].reshape(-1).view(torch.uint8) if value.is_floating_point() else state[name],
                           value.reshape(-1).view(torch.uint8) if value.is_floating_point() else value), name
    assert [id(t) for t in (*net.parameters(), *net.buffers())] == tensors
    assert trainer.torch_optimizer is not old_optimizer and trainer.torch_optimizer.state_dict()["state"] == {}
    until(lambda: trainer.run_state["step"] == 0)  # the page hears of it (paced)
    assert (trainer.step(20), trainer.history) == first_run  # the same run again, batches included


def test_lr_optimizer_and_batch_size_changes_reach_torch():
    X, y = separable(64)
    trainer = nw.Trainer(mlp(), X, y, optimizer="adam", lr=1e-2)
    assert isinstance(trainer.torch_optimizer, torch.optim.Adam)
    trainer.step()
    trainer.lr = 3e-4
    assert [g["lr"] for g in trainer.torch_optimizer.param_groups] == [3e-4]
    trainer.optimizer = "sgd_momentum"
    opt = trainer.torch_optimizer
    assert type(opt) is torch.optim.SGD and opt.param_groups[0]["momentum"] == 0.9 and opt.param_groups[0]["lr"] == 3e-4
    for name, cls in [("sgd", torch.optim.SGD), ("rmsprop", torch.optim.RMSprop), ("adamw", torch.optim.AdamW)]:
        trainer.optimizer = name
        assert type(trainer.torch_optimizer) is cls
    trainer.optimizer = torch.optim.Adagrad
    assert trainer.optimizer == "Adagrad" and "Adagrad" in trainer.optimizers
    assert type(trainer.torch_optimizer) is torch.optim.Adagrad
    trainer.batch_size = 5
    trainer.step()
    assert trainer.epoch == (len(X) + 5) / len(X)  # one whole-data batch of 64 (the data has fewer rows), then 5
    trainer.optimizer = "sgd"
    trainer.optimizer = "Adagrad"  # the page picks the custom class by its name
    assert type(trainer.torch_optimizer) is torch.optim.Adagrad


def test_custom_optimizer_class_and_callable_loss():
    X, y = separable(64)
    seen = []

    def my_loss(outputs, targets):
        seen.append(outputs.shape)
        return nn.functional.cross_entropy(outputs, targets)

    trainer = nw.Trainer(mlp(), X, y, loss=my_loss, optimizer=torch.optim.SGD, lr=0.1, batch_size=8)
    trainer.step(3)
    assert trainer.loss == "my_loss" and seen == [torch.Size([8, 2])] * 3
    assert "accuracy" in trainer.history  # integer targets: class indices


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda X, y, m: nw.Trainer(m, X, y[:-1]), ValueError, "one target per row"),
    (lambda X, y, m: nw.Trainer(m, X, y, loss="hinge"), ValueError, "unknown loss 'hinge'.*cross_entropy"),
    (lambda X, y, m: nw.Trainer(m, X, y, optimizer="lbfgs2"), ValueError, "unknown optimizer 'lbfgs2'.*adam"),
    (lambda X, y, m: nw.Trainer(m, X, y, optimizer=torch.optim.Adam(m.parameters())), TypeError, "not an instance"),
    (lambda X, y, m: nw.Trainer(m, X, y, lr=0), ValueError, "lr must be a positive"),
    (lambda X, y, m: nw.Trainer(m, X, y, lr=-1e-3), ValueError, "lr must be a positive"),
    (lambda X, y, m: nw.Trainer(m, X, y, batch_size=0), ValueError, "batch_size must be at least 1"),
    (lambda X, y, m: nw.Trainer(m, X, y, batch_size=2.5), TypeError, "batch_size must be a whole number"),
    (lambda X, y, m: nw.Trainer(m, X, y.float() + 0.5, loss="cross_entropy"), ValueError, "class indices"),
    (lambda X, y, m: nw.Trainer(m, X, y - 1, loss="cross_entropy"), ValueError, "≥ 0"),
    (lambda X, y, m: nw.Trainer(m, X[0, 0], y), ValueError, "at least one row"),
    (lambda X, y, m: nw.Trainer(m, X, None), TypeError, "y is missing"),
    (lambda X, y, m: nw.Trainer("net", X, y), TypeError, "Module"),
    (lambda X, y, m: nw.Trainer(m, X, y, colour="red"), TypeError, "unexpected keyword argument"),
])
def test_bad_input_is_a_clear_error(call, error, match):
    X, y = separable(32)
    with pytest.raises(error, match=match):
        call(X, y, mlp())


def test_bad_changes_are_refused():
    X, y = separable(32)
    trainer = nw.Trainer(mlp(), X, y)
    with pytest.raises(ValueError, match="lr must be a positive"):
        trainer.lr = -1.0
    with pytest.raises(ValueError, match="unknown optimizer"):
        trainer.optimizer = "adamm"
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        trainer.batch_size = 0
    with pytest.raises(ValueError, match="n must be"):
        trainer.step(0)
    assert (trainer.lr, trainer.optimizer, trainer.batch_size) == (1e-3, "adam", 64)


def test_shape_errors_name_what_was_expected():
    X, y = separable(32)
    wrong_width = nw.Trainer(mlp(inputs=3), X, y)
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        wrong_width.step()
    assert "training stopped" in wrong_width.error
    one_output = nw.Trainer(mlp(classes=1), X, y, loss="cross_entropy")
    with pytest.raises(ValueError, match=r"\(batch, classes\).*at least 2"):
        one_output.step()
    too_few = nw.Trainer(mlp(classes=2), X, y * 3, loss="cross_entropy")
    with pytest.raises(ValueError, match="class index 3 but the model outputs only 2"):
        too_few.step()
    regression = nw.Trainer(mlp(classes=2), X, y.float(), loss="mse")
    with pytest.raises(ValueError, match="one model output per target"):
        regression.step()


def test_a_raising_loss_leaves_the_trainer_usable():
    X, y = separable(64)
    net = mlp()
    calls = {"n": 0}

    def flaky(outputs, targets):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("flaky loss")
        return nn.functional.cross_entropy(outputs, targets)

    trainer = nw.Trainer(net, X, y, loss=flaky, batch_size=16)
    trainer.step()
    weights = net[0].weight.detach().clone()
    with pytest.raises(RuntimeError, match="flaky loss"):
        trainer.step()
    assert torch.equal(net[0].weight, weights) and trainer.step_count == 1
    assert "flaky loss" in trainer.error
    assert all(m.training for m in net.modules())
    trainer.step()
    assert trainer.step_count == 2 and trainer.error == ""


def test_nan_loss_stops_play_and_shows_the_error_then_reset_recovers():
    X, y = separable(64)
    net = mlp()
    trainer = nw.Trainer(net, X, y, batch_size=16)
    with torch.no_grad():
        net[0].weight[0, 0] = float("nan")
    trainer.play()
    until(lambda: not trainer.playing)
    assert "loss is nan" in trainer.error and trainer.step_count == 0
    trainer.reset()
    assert trainer.error == "" and torch.isfinite(net[0].weight).all()
    trainer.play()
    until(lambda: trainer.step_count >= 3)
    trainer.pause()
    assert trainer.error == ""


def test_play_trains_in_a_thread_and_pause_stops_the_counter():
    X, y = separable(128)
    trainer = nw.Trainer(mlp(), X, y, batch_size=8)
    trainer.play()
    assert trainer.playing
    until(lambda: trainer.step_count >= 5)
    trainer.pause()
    stopped = trainer.step_count
    time.sleep(0.2)  # nothing to wait on: checking that nothing happens
    assert trainer.step_count == stopped and not trainer.playing
    assert [s for s, _ in trainer.history["loss"]] == list(range(1, stopped + 1))
    trainer.play()
    until(lambda: trainer.step_count > stopped + 2)
    trainer.close()
    until(lambda: trainer._thread is None)
    after = trainer.step_count
    time.sleep(0.1)
    assert trainer.step_count == after


def test_model_modes_are_put_back_after_each_step():
    X, y = separable(64)
    net = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.BatchNorm1d(8), nn.Linear(8, 2)).eval()
    net[2].train()
    trainer = nw.Trainer(net, X, y, batch_size=16)
    trainer.step(2)
    assert [m.training for m in net.modules()] == [False, False, False, True, False]


class _Events:
    """What IPython's shell.events offers, enough for the gate."""

    def __init__(self):
        self.callbacks = {"pre_run_cell": [], "post_run_cell": []}

    def register(self, name, callback):
        self.callbacks[name].append(callback)

    def unregister(self, name, callback):
        self.callbacks[name].remove(callback)

    def trigger(self, name, *args):
        for callback in list(self.callbacks[name]):
            callback(*args)


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    yield shell
    _cells.forget(shell)
    InteractiveShell.clear_instance()


def test_cell_gate_no_step_while_a_cell_runs(shell):
    X, y = separable(256)
    trainer = nw.Trainer(mlp(), X, y, batch_size=4)  # made "in a cell": the gate is closed until it ends
    assert _cells.gate() is trainer._gate and trainer._gate.in_cell
    trainer.play()
    time.sleep(0.2)  # checking that nothing happens while the cell runs
    assert trainer.step_count == 0 and trainer.playing
    shell.events.trigger("post_run_cell", None)
    until(lambda: trainer.step_count >= 3)
    for _ in range(5):
        shell.events.trigger("pre_run_cell", None)
        held = trainer.step_count  # pre_run_cell returned: the step in progress has finished
        assert not trainer._in_step
        time.sleep(0.05)
        assert trainer.step_count == held
        trainer.step(2)  # the cell's own steps run on its thread
        assert trainer.step_count == held + 2
        shell.events.trigger("post_run_cell", None)
        until(lambda: trainer.step_count > held + 3)
    trainer.pause()
    shell.events.trigger("pre_run_cell", None)
    held = trainer.step_count
    trainer.on_message({"event": "step"})  # a click handled during a cell (kernel subshells): refused
    assert trainer.step_count == held and "a cell is running" in trainer.error
    shell.events.trigger("post_run_cell", None)
    trainer.on_message({"event": "step"})
    assert trainer.step_count == held + 1 and trainer.error == ""
    trainer.close()


def test_cell_gate_with_a_stub_shell():
    stub = type("Shell", (), {})()
    stub.events = _Events()
    gate = _cells.gate(stub)
    try:
        assert gate.in_cell  # made on the main thread: assumed inside a cell
        X, y = separable(128)
        trainer = nw.Trainer(mlp(), X, y, batch_size=4)
        trainer._gate = gate
        gate.add(trainer)
        trainer.play()
        time.sleep(0.1)
        assert trainer.step_count == 0
        stub.events.trigger("post_run_cell", None)
        until(lambda: trainer.step_count >= 2)
        stub.events.trigger("pre_run_cell", None)
        held = trainer.step_count
        time.sleep(0.1)
        assert trainer.step_count == held
        trainer.pause()
        stub.events.trigger("post_run_cell", None)
        time.sleep(0.1)
        assert trainer.step_count == held  # paused during the cell: stays paused
    finally:
        _cells.forget(stub)


def test_trainer_on_an_inspector_uses_its_data_labels_and_preprocess():
    X, y = separable(128)
    seen = []

    def preprocess(rows):
        seen.append(rows.shape)
        return rows * 2.0

    net = mlp()
    ins = nw.Inspector(net, X.numpy(), y=y.numpy(), preprocess=preprocess)
    trainer = nw.Trainer(ins, lr=1e-2, batch_size=32)
    assert trainer.inspector is ins and trainer.loss == "cross_entropy" and trainer.rows == len(X)
    seen.clear()
    g = torch.Generator().manual_seed(0)
    rows = torch.randperm(len(X), generator=g)[:32]
    with torch.no_grad():
        expected = nn.functional.cross_entropy(net(X[rows] * 2.0), y[rows]).item()
    assert trainer.step() == pytest.approx(expected, rel=1e-5)
    assert seen == [(32, 4)]
    with pytest.raises(TypeError, match="takes no X or y"):
        nw.Trainer(ins, X)
    with pytest.raises(ValueError, match="no labels"):
        nw.Trainer(nw.Inspector(net, X.numpy()))


def test_steps_and_reset_reach_other_inspectors_of_the_model():
    X, y = separable(64)
    net = mlp()
    other = nw.Inspector(net)
    monitor = nw.TrainingMonitor(other)
    trainer = nw.Trainer(net, X, y)
    trainer.step()
    assert ticker().is_moving(other)  # heard through torch's optimizer step hooks
    until(lambda: not ticker().is_moving(other))
    version = other.version
    trainer.reset()
    assert ticker().is_moving(other)
    until(lambda: other.version > version)
    assert monitor.recorder.step == 1  # a reset is not a step


def test_page_actions_and_binary_payload():
    X, y = separable(64)
    trainer = nw.Trainer(mlp(), X, y, batch_size=16)
    trainer.on_message({"event": "step"})
    assert trainer.step_count == 1
    until(lambda: trainer.run_state["step"] == 1)
    state = trainer.run_state
    assert isinstance(state["loss_values"]["buffer"], bytes)
    assert decode_array(state["loss_steps"]).tolist() == [1]
    assert decode_array(state["loss_values"]).tolist() == [trainer.history["loss"][0][1]]
    assert state["epoch"] == 16 / len(X) and state["loss"] == trainer.last_loss
    trainer.on_message({"event": "reset"})
    assert trainer.step_count == 0
    trainer.playing = True  # what the ▶ button sets
    until(lambda: trainer.step_count >= 2)
    trainer.playing = False
    assert not trainer._in_step


def test_page_updates_are_paced_and_dropped_not_queued():
    X, y = separable(256)
    trainer = nw.Trainer(mlp(), X, y, batch_size=4)
    sent = []
    trainer.observe(lambda change: sent.append(time.monotonic()), "run_state")
    trainer.play()
    until(lambda: trainer.step_count >= 200 and len(sent) >= 3)
    start = time.monotonic()
    time.sleep(1.0)  # measuring the rate over a second
    in_window = [t for t in sent if t >= start]
    trainer.pause()
    assert len(in_window) <= 5  # ≤ 4/s while the page never acknowledges: 1/s (patience)
    gaps = np.diff(sent)
    assert gaps.min() >= 0.24
    until(lambda: trainer.run_state["step"] == trainer.step_count, timeout=3)  # the last state arrives
    assert trainer._pacer.dropped > trainer._pacer.sent


def test_pacer_acknowledged_updates_go_at_the_rate():
    now = [0.0]
    sent = []
    pacer = Pacer(sent.append, rate=4, patience=1.0, clock=lambda: now[0], timers=False)
    for tick in range(100):  # 10 s of offers every 0.1 s, each drawn at once by the page
        now[0] = tick / 10
        pacer.offer()
        pacer.drawn(len(sent))
    assert 30 <= len(sent) <= 40


def test_figure_draws_loss_and_accuracy():
    X, y = separable(64)
    trainer = nw.Trainer(mlp(), X, y)
    assert isinstance(trainer.figure(), Figure)
    trainer.step(5)
    fig = trainer.figure()
    assert len(fig.axes) == 2 and fig.axes[0].get_lines()[0].get_xdata().tolist() == [1, 2, 3, 4, 5]


def test_lazy_model_is_refused_until_initialised():
    net = nn.Sequential(nn.LazyLinear(2))
    X, y = separable(16)
    with pytest.raises(TypeError, match="lazy"):
        nw.Trainer(net, X, y)


def test_no_trainer_thread_waits_through_a_cell(shell):
    """A thread that trained keeps its team of OpenMP threads while it waits, and beside the cell's own
    team that made the user's small loop in the cell 2.6x slower: while a cell runs, no trainer thread is
    left; playing goes on in a new one after the cell."""
    X, y = separable(256)
    trainer = nw.Trainer(mlp(), X, y, batch_size=4)
    shell.events.trigger("post_run_cell", None)
    trainer.play()
    until(lambda: trainer.step_count >= 3)
    shell.events.trigger("pre_run_cell", None)
    until(lambda: not any(t.name == "nnwidgets-trainer" for t in threading.enumerate()))
    assert trainer.playing
    held = trainer.step_count
    shell.events.trigger("post_run_cell", None)
    until(lambda: trainer.step_count > held + 2)
    trainer.pause()
    trainer.close()
