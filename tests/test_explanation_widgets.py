import threading
import time

import numpy as np
import pytest
import torch
import traitlets
from torch import nn

import nnwidgets as nw
from nnwidgets._tabular_widget import _floats_from_json, _floats_to_json
from nnwidgets.core import decode_array
from nnwidgets.core.lime_explain import LimeOptions, explain_lime
from planted import Additive, Planted, data

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
    assert editor.values == X[9].tolist()
    editor.values = [10.0, 0, 0, 0, 0]
    assert editor.prediction_values[1] == pytest.approx(1.0, abs=1e-6)
    assert decode_array(editor.prediction["for_values"]).tolist() == [10.0, 0, 0, 0, 0]
    editor.reset()
    assert editor.values == X[9].tolist()
    assert decode_array(editor.original_values).tolist() == X[9].tolist()


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
    with pytest.raises(traitlets.TraitError, match="row must be between"):
        nw.InputEditor(Planted(), data(), row=1000)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        nw.Explainer(Planted(), data(), colour="red")


def test_lime_widget_equals_lime_and_caches():
    X = data()
    lime = nw.LimeExplainer(Planted(), X, num_samples=600, target_class=1).wait()
    direct = explain_lime(lime.data, lime.predict, X[0], 1, LimeOptions(num_samples=600))
    assert lime.result == direct
    assert decode_array(lime.explanation["weights"]).tolist() == list(direct.weights)
    lime.row = 3
    lime.wait()
    first = lime.result
    lime.row = 0
    assert not lime.busy and lime.result == direct  # served from the cache, no background job
    lime.row = 3
    assert lime.result is first


def test_hundred_rapid_changes_end_on_the_last():
    X = data()
    predict_calls = []
    lime = nw.LimeExplainer(Planted(), X, num_samples=2000, target_class=1)
    original = lime.predict
    lime.predict = lambda v: predict_calls.append(1) or original(v)
    lime.wait()
    predict_calls.clear()
    rng = np.random.default_rng(1)
    start = time.perf_counter()
    for _ in range(100):
        lime.values = rng.normal(size=5).tolist()
    assert time.perf_counter() - start < 1.0  # the kernel thread is never blocked by LIME
    assert lime.busy
    lime.wait()
    assert not lime.busy
    last = np.array(lime.values)
    assert decode_array(lime.explanation["for_values"]).tolist() == last.tolist()
    assert lime.result == explain_lime(lime.data, original, last, 1, lime.options)
    assert len(predict_calls) < 100  # coalesced: only a few of the 100 requests were computed


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
    assert gam.busy and gam.status.startswith("fitting a GAM to 600 rows")
    gam.wait()
    assert not gam.busy and gam.status == "" and gam.surrogate.fidelity_r2 >= 0.95
    assert decode_array(gam.curves["order"])[:2].tolist() == [0, 1]
    assert decode_array(gam.curves["rug"]).shape == (5, 400)
    gam.row = 5
    terms = decode_array(gam.row_terms["contributions"])
    assert np.allclose(terms, gam.surrogate.contributions(X[5]))
    assert decode_array(gam.row_terms["for_values"]).tolist() == X[5].tolist()
    assert gam.row_terms["model_prediction"] == pytest.approx(np.sin(2 * X[5, 0]) + 0.5 * X[5, 1] ** 2, abs=1e-5)


def test_gam_refits_after_training_and_option_changes():
    X = data()
    model = Planted()
    gam = nw.GamExplainer(model, X, target_class=1).wait()
    before = gam.surrogate
    with torch.no_grad():
        model.scale.mul_(0.1)
    assert gam.refresh_if_changed()
    gam.wait()
    assert gam.surrogate is not before
    assert np.ptp(gam.surrogate.curves[0].effect) < np.ptp(before.curves[0].effect)
    gam.target = "logit"
    gam.wait()
    assert gam.surrogate.target == "logit"


def test_explainer_links_row_values_and_class():
    X = data()
    ex = nw.Explainer(Planted(), X, class_names=["no", "yes"], **FAST)
    ex.row = 17
    ex.wait()
    for view in (ex.editor, ex.lime, ex.gam):
        assert view.row == 17 and view.values == X[17].tolist()
    ex.editor.values = [1.0, 2.0, 3.0, 4.0, 5.0]  # a slider move in the editor
    ex.wait()
    assert ex.values == ex.lime.values == ex.gam.values == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert decode_array(ex.lime.explanation["for_values"]).tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    ex.target_class = 0
    ex.wait()
    assert ex.lime.result.label == 0 and ex.gam.target_class == 0


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
    assert seen and seen[-1] == "nnwidgets-worker"


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


def test_latest_wins_runner_busy_flag_and_reuse():
    from nnwidgets._background import LatestWins

    states, results = [], []
    runner = LatestWins(states.append)
    gate = threading.Event()
    runner.submit(lambda: gate.wait(5) and "first", results.append, results.append)
    for i in range(5):
        runner.submit(lambda i=i: f"burst {i}", results.append, results.append)
    gate.set()
    assert runner.wait(5)
    assert results == ["burst 4"]  # the first finished late and was superseded; 0-3 never ran
    assert states[0] is True and states[-1] is False
    thread = runner._thread
    runner.submit(lambda: "again", results.append, results.append)
    runner.wait(5)
    assert results[-1] == "again" and runner._thread is thread  # one long-lived worker
    runner.close()
    assert not thread.is_alive() and runner._thread is None  # no torch-using thread left at exit
