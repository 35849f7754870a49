"""The inspector: checked data once, an explicit output kind, one selection, results per model version."""

import numpy as np
import pytest
import torch
from torch import nn

import nnwidgets as nw
from nnwidgets.core.tasks import GamFit, OverData, RowPass
from nnwidgets.core.gam_surrogate import GamOptions
from planted import Planted, data, linear


def softmax_model(dtype):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3), nn.Softmax(dim=1)).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_softmax_outputs_are_probabilities_in_every_dtype(dtype):
    model = softmax_model(dtype)
    X = data()
    s = nw.Inspector(model, X)
    assert s.output_kind.kind == "probabilities", s.output_kind.reason
    with torch.no_grad():
        own = model(torch.tensor(X[:7], dtype=dtype)).float().numpy()
    assert np.allclose(s.predict(X[:7]), own, atol=0)  # no second softmax


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_logits_get_the_models_own_softmax(dtype):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3)).to(dtype)
    X = data()
    s = nw.Inspector(model, X)
    assert s.output_kind.kind == "logits"
    with torch.no_grad():
        own = torch.softmax(model(torch.tensor(X[:7], dtype=dtype)).float(), dim=1).numpy()
    assert np.allclose(s.predict(X[:7]), own, atol=1e-6)


def test_one_sigmoid_output_is_a_probability_not_a_logit():
    model = nn.Sequential(linear([[0.5, -1.0, 0.0, 0.0, 0.0]], bias=-0.3), nn.Sigmoid())
    X = data()
    s = nw.Inspector(model, X, class_names=["no", "yes"])
    assert s.output_kind.kind == "probabilities" and "nn.Sigmoid" in s.output_kind.reason
    with torch.no_grad():
        p = model(torch.tensor(X[:5], dtype=torch.float32))[:, 0].numpy()
    assert np.allclose(s.predict(X[:5])[:, 1], p, atol=1e-7)
    assert np.allclose(s.predict(X[:5])[:, 0], 1 - p, atol=1e-7)


def test_one_logit_output_and_explicit_output_kinds():
    X = data()
    s = nw.Inspector(Planted(classes=1), X, class_names=["no", "yes"])
    assert s.output_kind.kind == "logits"
    z = 3 * X[:4, 0] - 2 * X[:4, 2]
    assert np.allclose(s.predict(X[:4])[:, 1], 1 / (1 + np.exp(-z)), atol=1e-6)
    given = nw.Inspector(Planted(), X, output="logits")
    assert given.output_kind.kind == "logits" and "given" in given.output_kind.reason
    assert nw.Inspector(Planted(classes=1), X).mode == "regression"
    with pytest.raises(ValueError, match="output must be one of"):
        nw.Inspector(Planted(), X, output="softmax")


def test_three_dimensional_outputs_are_refused_clearly():
    class Sequence(nn.Module):
        def forward(self, x):
            return x[:, :, None].repeat(1, 1, 3)

    with pytest.raises(ValueError, match=r"outputs of shape \(.*, 5, 3\).*one row of class scores"):
        nw.Inspector(Sequence(), data())


def test_selection_is_checked_and_shared():
    X = data()
    s = nw.Inspector(Planted(), X, row=7)
    assert s.row == 7 and s.values.tolist() == X[7].tolist()
    seen = []
    s.observe(lambda changes: seen.append(set(changes)))
    s.row = 9
    assert seen[-1] == {"row", "values"} and s.values.tolist() == X[9].tolist()
    s.values = [1.0, 2, 3, 4, 5]
    assert seen[-1] == {"values"} and s.row == 9
    s.values = [1.0, 2, 3, 4, 5]
    assert len(seen) == 2  # no change, no notification
    with pytest.raises(ValueError, match="between 0 and 399"):
        s.row = 400
    with pytest.raises(TypeError, match="row must be an int"):
        s.row = 1.5
    with pytest.raises(ValueError, match="needs 5 numbers"):
        s.values = [1.0]
    with pytest.raises(ValueError, match="finite"):
        s.values = [np.nan] * 5
    with pytest.raises(ValueError, match="between 0 and 1"):
        s.target_class = 2
    with pytest.raises(ValueError, match="no layer named"):
        s.selected_layer = "nope"
    with pytest.raises(ValueError):
        s.values.__setitem__(0, 3.0)  # read-only: assign a new array instead


def test_initial_class_is_the_prediction_for_the_chosen_row():
    X = data()
    z = 3 * X[:, 0] - 2 * X[:, 2]
    rows = [int(np.argmax(z > 0)), int(np.argmax(z < 0))]
    for row in rows:
        assert nw.Inspector(Planted(), X, row=row).target_class == int(z[row] > 0)


def test_results_are_cached_per_model_version():
    X = data()
    model = Planted()
    s = nw.Inspector(model, X)
    first = s.compute(OverData())
    assert s.compute(OverData()) is first
    with torch.no_grad():
        model.scale.mul_(2)
    assert s.check_for_changes() and s.version == 1
    second = s.compute(OverData())
    assert second is not first and np.allclose(second.pass_.raw[:, 1], 2 * first.pass_.raw[:, 1])
    assert not s.check_for_changes()


def test_a_nan_weight_is_one_change_not_a_change_every_cell():
    model = nn.Sequential(nn.Linear(5, 2))
    s = nw.Inspector(model, data())
    with torch.no_grad():
        model[0].weight[0, 0] = float("nan")
    assert s.check_for_changes()
    assert not s.check_for_changes() and not s.check_for_changes()


def test_build_and_slider_moves_count_forward_passes():
    from planted import Counted

    torch.manual_seed(0)
    model = Counted(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)))
    X = np.random.default_rng(0).normal(size=(150, 4))
    Counted.log.clear()
    s = nw.Inspector(model, X)
    dash = nw.Dashboard(s).wait()
    build = list(Counted.log)
    assert build.count(150) <= 2, build  # passes over all of X
    assert build.count(1) <= 1, build
    for step in range(5):
        Counted.log.clear()
        s.values = X[3] + 0.1 * (step + 1)
        dash.wait()
        assert Counted.log.count(1) <= 1, Counted.log  # one single-row pass serves every view


def test_one_gam_fit_serves_the_gam_view_and_the_surrogates(monkeypatch):
    from nnwidgets.core import tasks

    fits = []
    real = tasks.fit_gam
    monkeypatch.setattr(tasks, "fit_gam", lambda *a, **k: fits.append(1) or real(*a, **k))
    X = np.random.default_rng(0).normal(size=(150, 4))
    torch.manual_seed(0)
    s = nw.Inspector(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)), X)
    dash = nw.Dashboard(s).wait()
    assert len(fits) == 1
    assert dash.gam.surrogate is dash.surrogates.models["gam"]
    s.target_class = (s.target_class + 1) % 3
    dash.wait()
    assert len(fits) == 2
    s.values = X[5]
    dash.wait()
    assert len(fits) == 2  # a new row needs no refit


def test_data_arguments_without_data_and_bad_models():
    with pytest.raises(TypeError, match="pass X as well"):
        nw.Inspector(Planted(), feature_names=["a"])
    with pytest.raises(TypeError, match="torch.nn.Module"):
        nw.Inspector(lambda x: x, data())
    with pytest.raises(ValueError, match="could not take X's rows"):
        nw.Inspector(Planted(), data(features=2))
    s = nw.Inspector(Planted())
    with pytest.raises(TypeError, match="needs data"):
        s.row = 1


def test_meta_weights_give_a_clear_problem_not_a_crash():
    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    s = nw.Inspector(model, data())
    assert "meta" in s.problem and s.class_names == ("class 0", "class 1", "class 2")
    with pytest.raises(ValueError, match="meta"):
        s.compute(RowPass(tuple(data()[0])))


def test_lazy_modules_are_refused_with_what_to_do():
    with pytest.raises(ValueError, match="lazy module.*run one batch"):
        nw.Inspector(nn.Sequential(nn.LazyLinear(3)), data())


def test_model_changed_during_a_job_is_not_delivered_as_current():
    X = data()
    model = Planted()
    s = nw.Inspector(model, X)

    class Training(GamFit):
        reads_model = True

        def run(self, ins, version, job):
            with torch.no_grad():
                model.scale.add_(1.0)  # the user's optimiser step, during the job
            return "stale"

    with pytest.raises(nw.core.ModelChanged):
        s.compute(Training(0, GamOptions()))


def test_outputs_are_decided_again_when_the_structure_changes():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 3))
    X = data()
    s = nw.Inspector(model, X)
    editor = nw.InputEditor(s)
    assert s.output_kind.kind == "logits"
    model.append(nn.Softmax(dim=1))  # the user appends a softmax: the outputs are probabilities now
    assert s.check_for_changes()
    assert s.output_kind.kind == "probabilities" and editor.output_kind.startswith("probabilities")
    with torch.no_grad():
        own = model(torch.tensor(X[:1], dtype=torch.float32)).double().numpy()[0]
    assert np.allclose(editor.wait().prediction_values, own, atol=1e-7)  # not softmaxed twice
    named = nw.Inspector(nn.Sequential(nn.Linear(5, 3)), X, class_names=["a", "b", "c"])
    named.model[0] = nn.Linear(5, 4)  # a new head that no longer fits the class names
    named.check_for_changes()
    assert "class_names has 3 names but the model gives 4" in named.problem
    with pytest.raises(ValueError, match="class_names has 3 names"):
        named.compute(RowPass(tuple(X[0])))


def test_labels_must_be_class_indices_or_class_names():
    X = data()
    y = (X[:, 0] > 0).astype(int)
    s = nw.Inspector(Planted(), X, y=np.where(y, "yes", "no"), class_names=["no", "yes"])
    assert s.labels.tolist() == y.tolist()
    with pytest.raises(ValueError, match=r"class indices 0..1 .* from 1 to 2"):
        nw.Inspector(Planted(), X, y=y + 1)
    with pytest.raises(ValueError, match="not class names"):
        nw.Inspector(Planted(), X, y=np.where(y, "pos", "neg"))


def test_explicit_probabilities_are_checked_and_a_final_sigmoid_decides():
    with pytest.raises(ValueError, match="output='probabilities' was given, but"):
        nw.Inspector(Planted(), data(), output="probabilities")
    sigmoid = nn.Sequential(linear([[0.5, -1.0, 0.0, 0.0, 0.0]]), nn.Sigmoid())
    s = nw.Inspector(sigmoid, data())  # no class names: a final nn.Sigmoid still says "classifier"
    assert s.mode == "classification" and s.output_kind.kind == "probabilities"


def test_inline_work_ignores_the_callers_inference_mode():
    from nnwidgets.core.tasks import Attribution

    X = data()
    s = nw.Inspector(Planted(), X)
    with torch.inference_mode():
        a = s.compute(Attribution(tuple(X[0]), 1, "zeros", "logit", 8))
    assert np.allclose(a.values[2], [3 * X[0, 0], 0, -2 * X[0, 2], 0, 0], atol=1e-5)


def test_select_changes_several_parts_with_one_notification_and_checks_first():
    X = data()
    s = nw.Inspector(Planted(), X)
    seen = []
    s.observe(lambda changes: seen.append(set(changes)))
    s.select(row=4, target_class=1 - s.target_class)
    assert seen == [{"row", "values", "target_class"}] and s.values.tolist() == X[4].tolist()
    with pytest.raises(ValueError, match="between 0 and 1"):
        s.select(row=5, target_class=7)
    assert s.row == 4 and len(seen) == 1  # nothing changed: everything is checked before anything is set
