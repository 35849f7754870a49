import threading

import numpy as np
import pytest
import torch
import traitlets
from torch import nn

import nnwidgets as nw
from nnwidgets._tabular import _floats_from_json, _floats_to_json
from nnwidgets.core import decode_array
from nnwidgets.core.lime_explain import LimeOptions
from nnwidgets.core.tasks import Lime
from planted import Additive, Counted, Planted, data

FAST = {"num_samples": 400}


def test_values_travel_as_a_float64_buffer():
    payload = _floats_to_json([1.5, -2.0], None)
    assert isinstance(payload["buffer"], bytes) and payload["dtype"] == "float64"
    assert _floats_from_json({**payload, "buffer": memoryview(payload["buffer"])}, None) == [1.5, -2.0]


def test_input_editor_prediction_row_and_reset():
    X = data()
    editor = nw.InputEditor(Planted(), X, class_names=["no", "yes"])
    z = 3 * X[0, 0] - 2 * X[0, 2]
    assert editor.prediction_values[1] == pytest.approx(1 / (1 + np.exp(-z)), abs=1e-6)
    assert editor.target_class == int(z > 0)
    editor.row = 9
    assert editor.values == X[9].tolist() and editor.inspector.row == 9
    editor.values = [10.0, 0, 0, 0, 0]
    assert editor.prediction_values[1] == pytest.approx(1.0, abs=1e-6)
    assert decode_array(editor.prediction["for_values"]).tolist() == [10.0, 0, 0, 0, 0]
    editor.reset()
    assert editor.values == X[9].tolist()
    assert decode_array(editor.original_values).tolist() == X[9].tolist()
    assert editor.output_kind.startswith("logits:")


def test_regression_editor():
    X = data()
    editor = nw.InputEditor(Planted(classes=1), X)
    assert editor.mode == "regression" and editor.class_names == []
    assert editor.prediction_values[0] == pytest.approx(3 * X[0, 0] - 2 * X[0, 2], abs=1e-5)


def test_feature_ranges_and_integer_steps():
    X = data()
    X[:, 4] = np.arange(len(X)) % 20
    editor = nw.InputEditor(Planted(), X)
    assert decode_array(editor.features["min"])[4] == 0 and decode_array(editor.features["max"])[4] == 19
    assert decode_array(editor.features["step"])[4] == 1
    assert 0 < decode_array(editor.features["step"])[0] < 0.2


@pytest.mark.parametrize(
    ("trait", "value", "message"),
    [("row", 400, "row must be between 0 and 399"), ("row", -1, "row must be"), ("values", [1.0, 2.0], "needs 5 numbers"),
     ("values", [np.nan] * 5, "finite"), ("target_class", 2, "target_class must be between 0 and 1")],
)
def test_bad_selection(trait, value, message):
    editor = nw.InputEditor(Planted(), data())
    with pytest.raises(traitlets.TraitError, match=message):
        setattr(editor, trait, value)


def test_bad_construction():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        nw.LimeExplainer("model", data())
    with pytest.raises(ValueError, match="could not take X's rows"):
        nw.GamExplainer(Planted(), data()[:, :2])
    with pytest.raises(ValueError, match="row must be between"):
        nw.InputEditor(Planted(), data(), row=1000)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        nw.Explainer(Planted(), data(), colour="red")
    s = nw.Inspector(Planted(), data())
    with pytest.raises(TypeError, match=r"takes no X, feature_names.*pass them to nw.Inspector"):
        nw.LimeExplainer(s, data(), feature_names=list("abcde"))
    with pytest.raises(TypeError, match="needs data"):
        nw.LimeExplainer(nw.Inspector(Planted()))


def test_views_of_one_inspector_follow_its_selection():
    X = data()
    s = nw.Inspector(Planted(), X)
    lime, gam, act = nw.LimeExplainer(s, **FAST), nw.GamExplainer(s), nw.Activations(s)
    s.row = 17
    for view in (lime, gam, act):
        view.wait()
        assert view.row == 17 and view.values == X[17].tolist()
    lime.values = [1.0, 2.0, 3.0, 4.0, 5.0]  # a change in one view is the inspector's
    assert s.values.tolist() == gam.values == [1.0, 2.0, 3.0, 4.0, 5.0]
    s.target_class = 0
    assert lime.target_class == gam.target_class == 0


def test_lime_widget_equals_lime_and_caches():
    X = data()
    lime = nw.LimeExplainer(Planted(), X, num_samples=600, target_class=1)
    direct = lime.inspector.compute(Lime(tuple(X[0]), 1, LimeOptions(num_samples=600)))
    assert lime.result is direct
    assert decode_array(lime.explanation["weights"]).tolist() == list(direct.weights)
    lime.row = 3
    first = lime.result
    lime.row = 0
    assert not lime.busy and lime.result is direct  # served from the cache at once, no background job
    lime.row = 3
    assert lime.result is first


def test_a_cached_answer_is_not_overwritten_by_a_late_one():
    """values v1 (cached) → v2 (computing) → v1 again: the view ends on v1's explanation."""
    X = data()
    gate = threading.Event()

    class Gated(nn.Module):
        def forward(self, x):
            if len(x) == 400 and x[0, 0].item() == 9.0:  # lime's first sample is the row itself
                gate.wait(10)
            return Planted()(x)

    s = nw.Inspector(Gated(), X)
    lime = nw.LimeExplainer(s, **FAST).wait()
    v1 = s.values.copy()
    lime.values = [9.0, 0, 0, 0, 0]  # v2: held inside the model
    assert lime.busy
    lime.values = v1.tolist()  # back to v1: cached
    gate.set()
    lime.wait()
    s.compute(Lime((9.0, 0, 0, 0, 0), s.target_class, lime.options))  # v2's job has finished
    assert decode_array(lime.explanation["for_values"]).tolist() == v1.tolist()
    assert lime.result.conditions == s.compute(Lime(tuple(v1), s.target_class, lime.options)).conditions


def test_hundred_rapid_changes_end_on_the_last():
    X = data()
    lime = nw.LimeExplainer(Counted(Planted()), X, num_samples=2000, target_class=1).wait()
    Counted.log.clear()
    rng = np.random.default_rng(1)
    for _ in range(100):
        lime.values = rng.normal(size=5).tolist()
    assert lime.busy
    lime.wait()
    assert not lime.busy
    last = np.array(lime.values)
    assert decode_array(lime.explanation["for_values"]).tolist() == last.tolist()
    assert lime.result == lime.inspector.compute(Lime(tuple(last), 1, lime.options))
    assert Counted.log.count(2000) < 100  # coalesced: only a few of the 100 requests were computed


def test_failure_shows_a_message_and_the_next_valid_input_recovers():
    class Fragile(nn.Module):
        def forward(self, x):
            if (x[:, 0] > 100).any():
                raise RuntimeError("input out of range")
            return torch.stack([torch.zeros(len(x)), x[:, 0]], 1)

    X = data()
    lime = nw.LimeExplainer(Fragile(), X, **FAST).wait()
    assert lime.error == ""
    lime.values = [1000.0, 0, 0, 0, 0]
    lime.wait()
    assert "LIME failed" in lime.error and "input out of range" in lime.error
    lime.values = [0.5, 0, 0, 0, 0]
    lime.wait()
    assert lime.error == "" and decode_array(lime.explanation["for_values"])[0] == 0.5


def test_gam_widget_fits_in_background_and_follows_the_row():
    X = data(rows=600)
    gam = nw.GamExplainer(Additive(), X)
    assert gam.busy and gam.status.startswith("fitting a GAM to 480 rows")  # the rows it will be fitted on
    gam.wait()
    assert not gam.busy and gam.status == "" and gam.surrogate.fidelity_r2 >= 0.95
    assert decode_array(gam.curves["order"])[:2].tolist() == [0, 1]
    assert decode_array(gam.curves["rug"]).shape == (5, 400)
    assert (gam.curves["fitted_rows"], gam.curves["scored_rows"]) == (480, 120)
    gam.row = 5
    gam.wait()
    terms = decode_array(gam.row_terms["contributions"])
    assert np.allclose(terms, gam.surrogate.contributions(X[5]))
    assert decode_array(gam.row_terms["for_values"]).tolist() == X[5].tolist()
    assert gam.row_terms["model_prediction"] == pytest.approx(np.sin(2 * X[5, 0]) + 0.5 * X[5, 1] ** 2, abs=1e-5)


def test_gam_refits_after_training_and_option_changes():
    X = data()
    model = Planted()
    gam = nw.GamExplainer(model, X, target_class=1)
    before = gam.surrogate
    with torch.no_grad():
        model.scale.mul_(0.1)
    assert gam.inspector.check_for_changes()
    gam.wait()
    assert gam.surrogate is not before
    assert np.ptp(gam.surrogate.curves[0].effect) < np.ptp(before.curves[0].effect)
    gam.target = "logit"
    assert gam.surrogate.target == "logit"


def test_gam_row_terms_never_mix_classes():
    """After a class change, the terms shown are the new class's surrogate beside the new class's model value."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
    X = data()
    gam = nw.GamExplainer(model, X, target_class=0).wait()
    gam.target_class = 2
    gam.wait()
    p2 = gam.inspector.predict(X[:1])[0, 2]
    assert gam.row_terms["model_prediction"] == pytest.approx(p2, abs=1e-9)
    assert gam.surrogate is gam.inspector.peek(gam.fit_task)[1] and gam.fit_task.label == 2
    surrogate_value = gam.surrogate.intercept + decode_array(gam.row_terms["contributions"]).sum()
    assert gam.row_terms["surrogate_prediction"] == pytest.approx(surrogate_value)


def test_explainer_is_a_layout_of_one_inspector():
    X = data()
    s = nw.Inspector(Planted(), X, class_names=["no", "yes"])
    ex = nw.Explainer(s, **FAST)
    ex.row = 17
    ex.wait()
    for view in (ex.editor, ex.lime, ex.gam):
        assert view.inspector is s and view.row == 17 and view.values == X[17].tolist()
    ex.editor.values = [1.0, 2.0, 3.0, 4.0, 5.0]  # a slider move in the editor
    ex.wait()
    assert ex.values == ex.lime.values == ex.gam.values == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert decode_array(ex.lime.explanation["for_values"]).tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    ex.target_class = 0
    ex.wait()
    assert ex.lime.result.label == 0 and ex.gam.target_class == 0
    assert ex.children == [ex.editor, ex.lime, ex.gam]
    refs = ex.get_state()["children"]
    assert refs == [f"anywidget:{w.model_id}" for w in (ex.editor, ex.lime, ex.gam)]


def test_figures():
    X = data()
    ex = nw.Explainer(Planted(), X, **FAST)
    fig = ex.figure()
    assert len(fig.axes) == 3
    lime_fig = ex.lime.figure()
    assert len(lime_fig.axes[0].patches) == min(10, 5)
    gam_fig = ex.gam.figure()
    assert len(gam_fig.axes) == len(ex.gam.surrogate.curves)
    assert len(ex.editor.figure().axes[0].patches) == 2


def test_background_updates_from_a_worker_thread_reach_traits():
    X = data()
    lime = nw.LimeExplainer(Planted(), X, **FAST)
    seen = []
    lime.observe(lambda change: seen.append(threading.current_thread().name), "explanation")
    lime.wait()
    assert seen and seen[-1] == "nnwidgets-slow"


def test_constant_feature_and_single_row_are_handled():
    X = data()
    X[:, 3] = 2.0
    lime = nw.LimeExplainer(Planted(), X, **FAST).wait()
    assert lime.error == "" and "x3 <= 2.00" in lime.result.conditions
    gam = nw.GamExplainer(Planted(), X).wait()
    assert gam.error == "" and gam.curves["constant_features"] == ["x3"]
    one = data(rows=1)
    assert nw.LimeExplainer(Planted(), one, **FAST).wait().error == ""
    assert "every feature of X is constant" in nw.GamExplainer(Planted(), one).wait().error
    assert nw.InputEditor(Planted(), one).prediction_values.shape == (2,)


def test_a_gam_fit_never_runs_on_the_kernels_thread(monkeypatch):
    """Row terms are quick work and may run on the caller's thread; the fit they need must not come
    along, also right after a model change, when the new version's fit is not ready yet."""
    from nnwidgets.core import tasks

    threads = []
    real = tasks.fit_gam
    monkeypatch.setattr(tasks, "fit_gam", lambda *a, **k: threads.append(threading.current_thread().name) or real(*a, **k))
    X = data()
    model = Planted()
    s = nw.Inspector(model, X)
    gam = nw.GamExplainer(s).wait()
    for i in range(6):  # enough moves for the row terms to count as quick work
        s.values = X[i]
        gam.wait()
    with torch.no_grad():
        model.scale.mul_(2)
    assert s.check_for_changes()
    s.values = X[10]
    gam.wait()
    assert threads and set(threads) == {"nnwidgets-slow"}
    assert gam.error == "" and decode_array(gam.row_terms["for_values"]).tolist() == X[10].tolist()
    assert gam.surrogate is s.peek(gam.fit_task)[1]
