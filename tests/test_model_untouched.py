"""Every widget operation leaves the live model exactly as it found it."""

import numpy as np
import pytest

import nnwidgets as nw
from conftest import assert_same_state, busy_model, fingerprint


def _explorer_operations(e):
    e.selected_layer = "4"
    e.selected_layer = "2"
    e.bars.depth = 1
    e.heatmap.region = [0, 2, 0, 3]
    e.refresh()
    e.figure()


X6 = np.random.default_rng(0).normal(size=(60, 6))


def _explainer_operations(e):
    e.row = 5
    e.values = [0.5] * 6
    e.target_class = 2
    e.gam.target = "logit"
    e.wait()
    e.refresh()
    e.wait()
    e.figure()


OPERATIONS = {
    "LayerBars": (nw.LayerBars, lambda w: [setattr(w, "metric", "output units"), setattr(w, "selected_layer", "1"), w.refresh(), w.figure()]),
    "WeightHeatmap": (
        nw.WeightHeatmap,
        lambda w: [setattr(w, "parameter", "bias"), setattr(w, "layer", "1"), setattr(w, "region", [0, 1, 0, 2]), w.refresh(), w.figure()],
    ),
    "ModelExplorer": (nw.ModelExplorer, _explorer_operations),
    "Explainer": (lambda m: nw.Explainer(m, X6, num_samples=300), _explainer_operations),
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
    "Dashboard": (
        lambda m: nw.Dashboard(m, X6),
        lambda w: [setattr(w, "row", 3), w.wait(), setattr(w, "selected_layer", "2"), setattr(w, "target_class", 1), w.wait(), w.refresh(), w.wait()],
    ),
    "Attributions": (
        lambda m: nw.Attributions(m, X6),
        lambda w: [setattr(w, "row", 3), setattr(w, "output", "probability"), setattr(w, "baseline", "zeros"), w.figure()],
    ),
}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_widget_leaves_model_untouched(name):
    make, operate = OPERATIONS[name]
    model = busy_model()
    before = fingerprint(model)
    widget = make(model)
    operate(widget)
    assert_same_state(before, fingerprint(model))
