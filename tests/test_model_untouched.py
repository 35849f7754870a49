"""The live model belongs to the user: no view changes anything of it, at any moment, even while the
user trains it in the same cell or in a thread."""

import threading
import time
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import nnwidgets as nw
from conftest import assert_same_state, busy_model, fingerprint
from planted import Slow, data

from nnwidgets.core.tasks import Lime
from test_shadow import quantisation_aware_model

X6 = np.random.default_rng(0).normal(size=(60, 6))


def _explorer_operations(e):
    e.selected_layer = "4"
    e.selected_layer = "2"
    e.bars.depth = 1
    e.heatmap.region = [0, 2, 0, 3]
    e.refresh()
    e.figure()


def _explainer_operations(e):
    e.row = 5
    e.values = [0.5] * 6
    e.target_class = 2
    e.gam.target = "logit"
    e.wait()
    e.refresh()
    e.wait()
    e.figure()


def _dashboard_operations(d):
    d.row = 3
    d.wait()
    d.selected_layer = "2"
    d.target_class = 1
    d.wait()
    d.refresh()
    d.wait()
    d.figure()


# nw.Trainer is not here: it trains the model when asked to (tests/test_trainer.py checks that its reset
# restores the exact initial weights and that it never trains while a cell runs).
OPERATIONS = {
    "LayerBars": (nw.LayerBars, lambda w: [setattr(w, "metric", "output units"), setattr(w, "selected_layer", "1"), w.refresh(), w.figure()]),
    "WeightHeatmap": (
        nw.WeightHeatmap,
        lambda w: [setattr(w, "parameter", "bias"), setattr(w, "layer", "1"), setattr(w, "region", [0, 1, 0, 2]), w.refresh(), w.figure()],
    ),
    "ModelExplorer": (nw.ModelExplorer, _explorer_operations),
    "Explainer": (lambda m: nw.Explainer(m, X6, num_samples=300), _explainer_operations),
    "InputEditor": (lambda m: nw.InputEditor(m, X6), lambda w: [setattr(w, "row", 4), w.reset(), w.figure()]),
    "LimeExplainer": (lambda m: nw.LimeExplainer(m, X6, num_samples=300), lambda w: [setattr(w, "row", 4), w.figure()]),
    "GamExplainer": (lambda m: nw.GamExplainer(m, X6), lambda w: [setattr(w, "row", 4), w.figure()]),
    "Activations": (
        lambda m: nw.Activations(m, X6),
        lambda w: [setattr(w, "row", 4), setattr(w, "selected_layer", "2"), w.refresh(), w.figure()],
    ),
    "WeightDistributions": (
        nw.WeightDistributions,
        lambda w: [setattr(w, "selected_layer", "4"), w.refresh(), w.figure()],
    ),
    "WeightTiles": (
        lambda m: nw.WeightTiles(m, input_shape=(2, 3)),
        lambda w: [setattr(w, "selected_unit", 4), w.refresh(), w.figure()],
    ),
    "ActivationAnalysis": (
        lambda m: nw.ActivationAnalysis(m, X6),
        lambda w: [setattr(w, "selected_layer", "2"), w.refresh(), w.figure()],
    ),
    "Importance": (
        lambda m: nw.Importance(m, X6, repeats=2),
        lambda w: [setattr(w, "row", 2), setattr(w, "metric", "log loss"), w.wait(), w.refresh(), w.figure()],
    ),
    "Surrogates": (
        lambda m: nw.Surrogates(m, X6),
        lambda w: [setattr(w, "row", 2), w.wait(), setattr(w, "max_depth", 2), w.wait(), w.refresh(), w.figure()],
    ),
    "Dashboard": (lambda m: nw.Dashboard(m, X6, input_shape=(2, 3)), _dashboard_operations),
    "TrainingMonitor": (
        lambda m: nw.TrainingMonitor(m, X6),
        lambda w: [w.log(loss=1.0), w.log(loss=0.5), setattr(w, "selected_layer", "4"), setattr(w, "step", 1), w.refresh(), w.figure()],
    ),
    "Attributions": (
        lambda m: nw.Attributions(m, X6),
        lambda w: [setattr(w, "row", 3), setattr(w, "output", "probability"), setattr(w, "baseline", "zeros"), w.figure()],
    ),
    "ImageExplainer": (  # X6 as 2 × 3 pictures; preprocess flattens them for the busy model's first Linear
        lambda m: nw.ImageExplainer(m, X6.reshape(60, 1, 2, 3), preprocess=lambda b: b.reshape(len(b), 6), lime_samples=100),
        lambda w: [setattr(w, "row", 4), setattr(w, "values", np.ones(6)), [(setattr(w, "method", k), w.wait()) for k in
                   ("integrated_gradients", "occlusion", "lime")], setattr(w, "predicted_class", 1), w.refresh(), w.figure()],
    ),
    "UnitVisualizer": (  # X6 as 2 × 3 pictures; preprocess (numpy or torch alike) flattens them for the first Linear
        lambda m: nw.UnitVisualizer(m, X6.reshape(60, 1, 2, 3), preprocess=lambda b: b.reshape(len(b), 6), steps=16),
        lambda w: [setattr(w, "layer", "0"), setattr(w, "unit", 5), w.wait(), setattr(w, "layer", ""), w.refresh(), w.figure()],
    ),
}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_widget_leaves_model_untouched(name):
    make, operate = OPERATIONS[name]
    model = busy_model()
    before = fingerprint(model)
    widget = make(model)
    operate(widget)
    widget.wait() if hasattr(widget, "wait") else None
    assert_same_state(before, fingerprint(model))


def test_every_view_of_a_quantisation_aware_model_leaves_every_buffer_bitwise():
    model = quantisation_aware_model()
    X = np.random.default_rng(1).normal(size=(80, 4)) * 3
    before = fingerprint(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = nw.Inspector(model, X)
        views = [nw.Dashboard(s), nw.Explainer(s, ), nw.ModelExplorer(s)]
        for i in range(3):
            s.row = i
        for view in views:
            view.wait()
    assert_same_state(before, fingerprint(model))


def test_training_on_the_main_thread_while_a_job_runs():
    """A LIME job is held inside a (shadow) forward pass while the user's loop trains: dropout stays
    on for the user, gradients are theirs, and the optimiser's step moves the weights."""
    torch.manual_seed(0)
    model = Slow().train()
    X = data(rows=200)
    s = nw.Inspector(model, X)
    Slow.gate, Slow.entered = threading.Event(), threading.Event()
    try:
        lime = nw.LimeExplainer(s, num_samples=500)
        assert Slow.entered.wait(20), "the job never reached the model"
        optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
        x = torch.tensor(X[:32], dtype=torch.float32)
        for _ in range(3):
            before = model.body[0].weight.detach().clone()
            optimizer.zero_grad()
            out_a, out_b = model(x), model(x)
            assert model.training and all(m.training for m in model.modules())
            assert not torch.equal(out_a, out_b)  # dropout is on in the user's passes
            out_a.sum().backward()
            assert model.body[0].weight.grad is not None
            optimizer.step()
            assert not torch.equal(model.body[0].weight, before)  # the step moved the weights
        assert lime.busy  # the job is still held inside its forward pass
        Slow.gate.set()
        lime.wait()
        assert model.training and model.body[0].weight.grad is not None
        # Trained during the job: once the steps stop, the view shows the model as it is now.
        deadline = time.monotonic() + 20
        while s.training and time.monotonic() < deadline:
            time.sleep(0.02)
        lime.wait()
        assert not s.training and not lime.error and lime.status == ""
        hit, cached = s.peek(Lime(tuple(s.values.tolist()), s.target_class, lime.options))
        assert hit and cached is lime.result
    finally:
        Slow.gate.set()
        Slow.gate = None


def test_training_in_a_thread_while_views_compute():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 2)).train()
    X = data(rows=300)
    y = torch.tensor((X[:, 0] > 0).astype(int))
    s = nw.Inspector(model, X)
    dash = nw.Dashboard(s)
    problems = []

    def train():
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        x = torch.tensor(X, dtype=torch.float32)
        for _ in range(60):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            if not all(m.training for m in model.modules()):
                problems.append("a module was in eval mode during the user's step")
            loss.backward()
            if any(p.grad is None for p in model.parameters()):
                problems.append("a gradient was missing at the user's step")
            optimizer.step()

    thread = threading.Thread(target=train)
    thread.start()
    deadline = time.monotonic() + 60
    i = 0
    while thread.is_alive() and time.monotonic() < deadline:
        s.row = i % 50
        i += 1
        time.sleep(0.01)
    thread.join()
    assert problems == []
    s.check_for_changes()
    dash.wait()
    assert all(v.error == "" for v in dash.views), [v.error for v in dash.views]


def busy_cnn() -> nn.Module:
    """A CNN in training mode with grads, batch-norm statistics, dropout, a frozen part and a hook."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout2d(0.3),
                        nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(24, 3)).train()
    net(torch.randn(5, 1, 6, 6)).sum().backward()
    net[4].bias.requires_grad_(False)
    net[8].register_forward_hook(lambda *a: None)
    return net


def test_every_image_view_of_a_busy_cnn_leaves_it_untouched():
    model = busy_cnn()
    pictures = np.random.default_rng(3).random((40, 6, 6))
    before = fingerprint(model)
    s = nw.Inspector(model, pictures, selected_layer="4")
    views = [nw.Dashboard(s), nw.ImageExplainer(s, lime_samples=60), nw.FeatureMaps(s),
             nw.UnitVisualizer(s, layer="4", unit=2, steps=12), nw.Activations(s)]
    painted = pictures[5].copy()
    painted[2:4, :] = 1.0
    for method in ("integrated_gradients", "occlusion", "lime"):
        views[1].method = method
        views[1].wait()
    s.row = 5
    s.values = painted
    views[2].unit = 3
    for view in views:
        view.wait()
        view.figure()
    assert_same_state(before, fingerprint(model))
    for view in views:
        view.close()
