"""Views out of sight do no work, closed views let go of the model, re-run cells leave nothing behind."""

import gc
import weakref

import numpy as np
import pytest
import torch
from torch import nn

import nnwidgets as nw
from nnwidgets import _live
from planted import Counted, data


def make_model():
    torch.manual_seed(0)
    return Counted(nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2)))


def test_closing_the_views_frees_the_model():
    model = make_model()
    ref = weakref.ref(model)
    s = nw.Inspector(model, data())
    views = [nw.Dashboard(s).wait(), nw.LimeExplainer(s, num_samples=200).wait(), nw.ModelExplorer(s)]
    for view in views:
        view.close()
    del model, s, views, view
    gc.collect()
    assert ref() is None


def test_a_closed_view_does_no_work_and_is_not_refreshed():
    model = make_model()
    s = nw.Inspector(model, data())
    closed = nw.InputEditor(s).wait()
    kept = nw.InputEditor(s).wait()
    closed.close()
    before = closed.prediction
    Counted.log.clear()
    s.row = 3
    kept.wait()
    assert Counted.log == [1]  # the kept view's one pass; the closed one asked for nothing
    with torch.no_grad():
        model.inner[0].weight.mul_(2)
    _live.refresh_changed()
    kept.wait()
    assert closed.prediction == before


def test_views_out_of_sight_wait_and_catch_up_when_shown_again():
    s = nw.Inspector(make_model(), data())
    lime = nw.LimeExplainer(s, num_samples=200).wait()
    lime._on_view(True)
    lime._on_view(False)  # its output was cleared
    shown_for = lime.explanation["for_values"]
    Counted.log.clear()
    s.row = 7
    assert Counted.log == [] and lime.explanation["for_values"] == shown_for
    lime._on_view(True)  # displayed again
    lime.wait()
    assert Counted.log == [200] and lime.explanation["for_values"] != shown_for


def test_rerunning_a_cell_releases_the_old_views_and_their_models():
    IPython = pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.run_cell("import numpy as np, torch, nnwidgets as nw\nX = np.random.default_rng(0).normal(size=(50, 5))")
        refs = []
        for _ in range(5):
            shell.run_cell("model = torch.nn.Sequential(torch.nn.Linear(5, 2))\nexplorer = nw.ModelExplorer(model)\nexplorer")
            explorer = shell.user_ns["explorer"]
            refs.append(weakref.ref(shell.user_ns["model"]))
            for view in (explorer, *explorer.views):  # the page shows the new output...
                view._on_message(view, {"event": "view", "shown": True}, [])
            if len(refs) > 1:  # ...and the re-run cleared the old one
                for view in (previous, *previous.views):
                    view._on_message(view, {"event": "view", "shown": False}, [])
            previous = explorer
        del explorer, previous, view
        shell.run_cell("1 + 1")  # after this cell the unreachable old views are closed
        gc.collect()
        alive = [r for r in refs if r() is not None]
        assert alive == [refs[-1]]  # only the model the user still holds
        open_views = [v for v in _live.live_views() if v.inspector is not None and v.inspector.model is refs[-1]()]
        assert len(open_views) == 3  # the newest explorer, its bars and its heatmap
    finally:
        shell.run_cell("explorer.close(); del model, explorer")
        InteractiveShell.clear_instance()


def test_a_view_kept_in_a_variable_is_not_released():
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.run_cell("import torch, nnwidgets as nw\nkeep = [nw.LayerBars(torch.nn.Linear(2, 2))]")
        bars = shell.user_ns["keep"][0]
        bars._on_view(True)
        bars._on_view(False)
        shell.run_cell("1 + 1")
        assert not bars._closed
    finally:
        InteractiveShell.clear_instance()


def test_model_changes_reach_views_after_each_cell():
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.run_cell(
            "import numpy as np, torch, nnwidgets as nw\n"
            "torch.manual_seed(0)\n"
            "model = torch.nn.Sequential(torch.nn.Linear(3, 2))\n"
            "editor = nw.InputEditor(model, np.eye(3))\n"
            "before = editor.prediction_values.copy()"
        )
        shell.run_cell("with torch.no_grad(): model[0].weight.mul_(3)")
        editor = shell.user_ns["editor"]
        editor.wait()
        assert not np.allclose(editor.prediction_values, shell.user_ns["before"])
    finally:
        shell.run_cell("editor.close()")
        InteractiveShell.clear_instance()


def test_dropping_an_inspector_and_its_model_frees_them_even_after_background_work():
    model = make_model()
    ref = weakref.ref(model)
    s = nw.Inspector(model, data())
    from nnwidgets.core.tasks import OverData, RowPass

    s.compute(OverData())
    s.compute(RowPass(tuple(data()[0])))
    del model, s
    gc.collect()
    assert ref() is None
