"""Views follow a model while the user's own loop trains it — no notebook, no cell ending: the
optimizer's steps alone drive them — within their redraw rate and the page's message budget, and
without changing anything the training sees."""

import copy
import threading
import time

import numpy as np
import pytest
import torch
from torch import nn

import nnwidgets as nw
from nnwidgets.core import decode_array
from nnwidgets.core.live import FIRST_PICTURE_WITHIN_S, MAX_MESSAGES_PER_S, Contention, ticker
from nnwidgets.core.live import messages as message_counter
from nnwidgets.core.tasks import Lime

pytestmark = pytest.mark.usefixtures("no_model_moving")  # they count live redraws


def digits_like(rows=600, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 16))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    return X, y


def net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(16, 24), nn.ReLU(), nn.Linear(24, 12), nn.Tanh(), nn.Linear(12, 3))


def train(model, X, y, seconds=None, steps=None, on_step=None, optimizer=None):
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=1e-2)
    inputs, targets = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    start, done = time.monotonic(), 0
    while (steps is None or done < steps) and (seconds is None or time.monotonic() - start < seconds):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(inputs), targets).backward()
        optimizer.step()
        done += 1
        if on_step is not None:
            on_step(done)
    return optimizer, done


def a_heatmap_of_a_net():
    """Data, a model, its inspector and a WeightHeatmap of it, drawn."""
    X, y = digits_like()
    model = net()
    s = nw.Inspector(model, X, y=y)
    heat = nw.WeightHeatmap(s)
    heat.wait()
    return X, y, model, s, heat


def messages_while_training(model, X, y, seconds):
    """Train for ``seconds``, noting when each message to the page was sent: (times, start, end)."""
    sent = []
    original = message_counter.sent
    message_counter.sent = lambda: (sent.append(time.monotonic()), original())[-1]
    try:
        start = time.monotonic()
        train(model, X, y, seconds=seconds)
        return sent, start, time.monotonic()
    finally:
        message_counter.sent = original


def settled(inspector, timeout=20):
    """Wait (polling the inspector, not sleeping a fixed time) until live refreshes ended."""
    deadline = time.monotonic() + timeout
    while inspector.training and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not inspector.training


def test_views_redraw_during_the_loop_from_the_optimizer_steps_alone():
    X, y = digits_like()
    model = net()
    s = nw.Inspector(model, X, y=y)
    heat, activations = nw.WeightHeatmap(s), nw.Activations(s)
    heat.wait(), activations.wait()
    redraws = []
    heat.observe(lambda change: redraws.append((time.monotonic(), threading.current_thread() is threading.main_thread())), "heatmap")
    start = time.monotonic()
    train(model, X, y, seconds=2.5)
    end = time.monotonic()
    during = [main for t, main in redraws if start < t < end]
    assert len(during) >= 2, f"the heatmap redrew {len(during)} times while the loop ran"
    assert not any(during)  # drawn off the training thread

    settled(s)
    heat.wait(), activations.wait()
    # After the loop the views show exactly the model as it is.
    assert np.array_equal(decode_array(heat.heatmap["values"]), model[0].weight.detach().numpy())
    with torch.no_grad():
        expected = torch.softmax(model(torch.tensor(X[:1], dtype=torch.float32)), 1)[0].numpy()
    np.testing.assert_allclose(s.prediction, expected, rtol=1e-5, atol=1e-6)
    assert heat.status == "" and not heat.error and activations.error == ""


def test_a_second_loop_after_a_pause_is_followed_live_again():
    X, y, model, s, heat = a_heatmap_of_a_net()
    optimizer, _ = train(model, X, y, steps=3)
    settled(s)  # the first session ended: the ticker settled it
    redraws = []
    heat.observe(lambda change: redraws.append(time.monotonic()), "heatmap")
    train(model, X, y, steps=1, optimizer=optimizer)  # the same optimizer: its step hooks only
    assert ticker().is_moving(s) and s.training  # a new session, not a step noted in the one that ended
    start = time.monotonic()
    train(model, X, y, seconds=2.0)
    assert len([t for t in redraws if t > start]) >= 2  # live again while the second loop ran
    settled(s)
    heat.wait()
    assert np.array_equal(decode_array(heat.heatmap["values"]), model[0].weight.detach().numpy())


def test_redraws_keep_to_live_rate_and_the_page_message_budget():
    X, y = digits_like()
    model = net()
    s = nw.Inspector(model, X, y=y)
    dashboard = nw.Dashboard(s)
    heat = nw.WeightHeatmap(s, live_rate=2.0)
    dashboard.wait(), heat.wait()
    heat_redraws = []
    heat.observe(lambda change: heat_redraws.append(time.monotonic()), "heatmap")
    sent, start, end = messages_while_training(model, X, y, seconds=3)
    seconds = end - start
    assert 1 <= len([t for t in heat_redraws if start < t < end]) <= 2 * seconds + 1
    assert any(start < t < end for t in sent)  # the views did talk to the page while the loop ran
    per_second = [sum(1 for t in sent if a <= t < a + 1) for a in np.arange(start, end - 1, 0.25)]
    assert max(per_second, default=0) <= MAX_MESSAGES_PER_S, per_second
    settled(s)


def test_training_with_live_views_is_bitwise_the_same_as_without():
    X, y = digits_like()
    alone, watched = net(), net()
    optimizer_alone, _ = train(alone, X, y, steps=300)

    s = nw.Inspector(watched, X, y=y)
    views = [nw.Dashboard(s), nw.WeightHeatmap(s), nw.ModelExplorer(s)]
    optimizer_watched, _ = train(watched, X, y, steps=300)
    settled(s)
    for view in views:
        view.wait()
    for (name, a), (_, b) in zip(alone.named_parameters(), watched.named_parameters()):
        assert torch.equal(a, b), name
        assert torch.equal(a.grad, b.grad), name
    state_a, state_b = optimizer_alone.state_dict(), optimizer_watched.state_dict()
    assert state_a["param_groups"] == state_b["param_groups"]
    for key in state_a["state"]:
        for field, value in state_a["state"][key].items():
            assert torch.equal(value, state_b["state"][key][field]), (key, field)
    assert ticker().refreshes > 0


def test_a_loop_that_raises_leaves_the_views_usable():
    X, y = digits_like()
    model = net()
    s = nw.Inspector(model, X, y=y)
    heat = nw.WeightHeatmap(s)
    editor = nw.InputEditor(s)

    def fail(step):
        if step == 50:
            raise RuntimeError("the user's loop broke")

    with pytest.raises(RuntimeError, match="loop broke"):
        train(model, X, y, steps=100, on_step=fail)
    settled(s)
    editor.row = 7  # the next input works
    editor.wait(), heat.wait()
    assert not editor.error and not heat.error
    with torch.no_grad():
        expected = torch.softmax(model(torch.tensor(X[7:8], dtype=torch.float32)), 1)[0].numpy()
    np.testing.assert_allclose(s.prediction, expected, rtol=1e-5, atol=1e-6)
    assert np.array_equal(decode_array(heat.heatmap["values"]), model[0].weight.detach().numpy())


def test_steps_of_another_models_optimizer_are_not_heard():
    X, y = digits_like()
    watched, other = net(), net(1)
    s = nw.Inspector(watched, X, y=y)
    version = s.version
    train(other, X, y, steps=20)
    assert not s.training and s.version == version


def test_updates_the_hooks_cannot_see_are_followed_after_moved():
    X, y, model, s, heat = a_heatmap_of_a_net()
    with torch.no_grad():
        model[0].weight.data.mul_(0.5)  # a manual update: no optimizer step
    s.moved()
    assert s.training
    settled(s)
    heat.wait()
    assert np.array_equal(decode_array(heat.heatmap["values"]), model[0].weight.detach().numpy())


def test_training_in_a_thread_with_a_copy_on_the_side_stays_exact():
    """The user's loop in a thread: views follow it; the model ends where an unwatched copy ends."""
    X, y = digits_like()
    model = net()
    twin = copy.deepcopy(model)
    s = nw.Inspector(model, X, y=y)
    heat = nw.WeightHeatmap(s)
    worker = threading.Thread(target=train, args=(model, X, y), kwargs={"steps": 200})
    worker.start()
    train(twin, X, y, steps=200)
    worker.join()
    settled(s)
    heat.wait()
    for a, b in zip(model.parameters(), twin.parameters()):
        assert torch.equal(a, b)
    assert np.array_equal(decode_array(heat.heatmap["values"]), model[0].weight.detach().numpy())


def test_work_over_the_data_waits_for_training_to_pause():
    """A fit over the data is stale before it ends while the weights move: it waits, then runs once."""
    X, y = digits_like()
    model = net()
    s = nw.Inspector(model, X, y=y)
    gam = nw.GamExplainer(s)
    gam.wait()
    statuses = []
    train(model, X, y, seconds=1.5, on_step=lambda step: statuses.append(gam.status) if step % 50 == 0 else None)
    assert any("waits for training to pause" in text for text in statuses), statuses
    settled(s)
    gam.wait()
    assert gam.status == "" and not gam.error
    with torch.no_grad():  # the GAM was fitted to the model as it is after the loop
        now = torch.softmax(model(torch.tensor(X[:1], dtype=torch.float32)), 1)[0].numpy()
    np.testing.assert_allclose(s.prediction, now, rtol=1e-5, atol=1e-6)
    assert gam.surrogate is not None
    assert s.peek(gam.fit_task)[0]  # fitted for the current model version


def test_many_views_stay_under_the_message_limit():
    X, y = digits_like()
    model = net()
    s = nw.Inspector(model, X, y=y)
    views = [nw.WeightHeatmap(s, layer="0") for _ in range(60)]
    for view in views:
        view.wait()
    sent, start, end = messages_while_training(model, X, y, seconds=3)
    windows = [sum(1 for t in sent if a <= t < a + 1) for a in np.arange(start, end - 1, 0.05)]
    assert 0 < sum(start < t < end for t in sent) and max(windows) <= MAX_MESSAGES_PER_S, max(windows)
    settled(s)


def test_a_view_asked_for_right_after_the_loop_waits_for_the_pause():
    """The notebook pattern: a training cell, then at once a view whose work waits for training to
    pause; its result is there when asked for (not None), computed on the trained model."""
    X, y = digits_like()
    model = net()
    s = nw.Inspector(model, X, y=y)
    train(model, X, y, steps=100)
    assert s.training
    lime = nw.LimeExplainer(s, num_samples=300)
    result = lime.result
    assert result is not None and not lime.error
    assert s.peek(Lime(tuple(s.values.tolist()), s.target_class, lime.options))[1] is result


def test_two_inspectors_of_one_model_both_follow_it_live():
    """``TrainingMonitor(model)`` beside ``Inspector(model, X)``: two inspectors, one shared budget. The
    first refreshed must not spend it for the other every time (the monitor stayed still until the pause)."""
    X, y = digits_like()
    model = net()
    first, second = nw.WeightHeatmap(nw.Inspector(model, X, y=y)), nw.WeightHeatmap(nw.Inspector(model, X, y=y))
    first.wait(), second.wait()
    redraws = {id(first): 0, id(second): 0}
    for view in (first, second):
        view.observe(lambda change, key=id(view): redraws.__setitem__(key, redraws[key] + 1), "heatmap")
    train(model, X, y, seconds=3.0)
    during = dict(redraws)
    assert min(during.values()) >= 2, during  # each redrew several times while the loop ran
    settled(first.inspector), settled(second.inspector)


def test_slow_steps_are_one_session_not_a_pause_after_each():
    """A big model's steps come further apart than the half second that means "paused" for a small one:
    its views must not settle (an exact refresh, at a big model's cost) after every step."""
    X, y = digits_like()
    model = net()
    s = nw.Inspector(model, X, y=y)
    nw.WeightHeatmap(s).wait()
    settles = []
    s.observe(lambda changes: settles.append(time.monotonic()) if changes == {"settled"} else None)
    for _ in range(2):  # 0.7 s steps; the second session knows the model's steps from the first
        train(model, X, y, steps=6, on_step=lambda done: time.sleep(0.7))
        settled(s, timeout=30)
    # Before its second step the model is a small one that paused; from then on one session per loop.
    assert len(settles) <= 3, len(settles)


def test_contention_counts_only_the_slowdown_of_steps_that_overlap_work():
    steps = [i * 0.010 for i in range(6)]  # five quiet 10 ms steps
    steps += [0.080, 0.090, 0.150]  # a 30 ms step under 15 ms of work, a quiet one, a 60 ms step with 5 ms of work
    contention = Contention()
    added = contention.add(steps, [(0.055, 0.070), (0.140, 0.145)])
    # 30 ms − the quiet median 10 ms = 20 ms, at most the 15 ms overlap; 60 − 10 = 50 ms, at most 5 ms
    assert added == pytest.approx(0.015 + 0.005)
    assert contention.add(steps + [0.160], [(0.0, 1.0)]) == pytest.approx(0.0)  # only the new interval counts, and it was not slow


def test_contention_lets_the_noise_of_a_loaded_machine_cancel():
    steps = [0.0, 0.010, 0.020, 0.030]  # three quiet 10 ms steps
    steps += [0.044, 0.050]  # under work: one 4 ms slower, one 4 ms quicker than usual, as noise does
    assert Contention().add(steps, [(0.032, 0.037), (0.045, 0.049)]) == pytest.approx(0.0)
    # quicker than usual counts at most the overlap, as slower does
    assert Contention().add([0.0, 0.010, 0.020, 0.030, 0.032], [(0.0305, 0.0315)]) == pytest.approx(-0.001)


def test_a_sessions_first_live_picture_comes_within_a_second_even_after_a_costly_refresh():
    X, y, model, s, heat = a_heatmap_of_a_net()
    train(model, X, y, seconds=0.3)
    settled(s)
    heat.wait()
    ticker()._cost[s] = 60.0  # as if the last refresh had cost a minute of work: the budget alone would wait 100 min
    redraws = []
    heat.observe(lambda change: redraws.append(time.monotonic()), "heatmap")
    start = time.monotonic()
    train(model, X, y, seconds=2.5)
    assert redraws and redraws[0] - start < FIRST_PICTURE_WITHIN_S + 0.5, [round(t - start, 2) for t in redraws]
    settled(s)
