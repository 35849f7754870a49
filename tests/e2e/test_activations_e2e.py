"""Activations in JupyterLab beside LayerBars and an InputEditor of the same inspector: a row change
redraws the activations; selecting a layer in the bars highlights it; clicking a layer block selects it back."""

from .lab import Notebook

SETUP = """
import numpy as np, torch, ipywidgets, nnwidgets as nw
from sklearn.datasets import load_digits
digits = load_digits()
X = digits.data / 16
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(64, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))
with torch.no_grad():
    net[0].bias[:5] = -50.0  # five units that can never fire
s = nw.Inspector(net, X)
editor, act, bars = nw.InputEditor(s), nw.Activations(s), nw.LayerBars(s)
ipywidgets.VBox([bars, act, editor])
"""


def test_row_change_and_layer_selection(page, lab):
    nb = Notebook(page, lab, "activations.ipynb", [SETUP])
    nb.run(0)
    page.locator(".nnw-activations .nnw-act-layer").first.wait_for()
    assert page.locator(".nnw-act-layer").count() == 3
    relu = page.locator(".nnw-act-layer[data-name='1']")
    dead = nb.python("[int(layer.dead.sum()) for layer in act.layers]")
    assert dead[1] >= 5  # the five planted ones, plus any the random initialisation killed
    assert relu.locator(".nnw-flag-dead").inner_text() == f"{dead[1]} dead"
    assert relu.locator("canvas").count() == 1  # 100 units: a colour strip
    assert page.locator(".nnw-act-layer[data-name='2'] svg rect").count() == 10  # 10 units: bars

    before = page.locator(".nnw-activations").get_attribute("data-for-values")
    page.locator(".nnw-editor button", has_text="▶").click()
    page.wait_for_function("v => document.querySelector('.nnw-activations').dataset.forValues !== v", arg=before)
    assert nb.python("act.row") == 1

    page.locator(".nnw-bar-row[data-name='2']").click()
    page.locator(".nnw-act-layer.nnw-selected[data-name='2']").wait_for()
    page.locator(".nnw-act-layer[data-name='1'] .nnw-act-head").click()
    page.locator(".nnw-bar-row[data-name='1'][aria-selected='true']").wait_for()
    assert nb.python("[bars.selected_layer, act.selected_layer]") == ["1", "1"]
