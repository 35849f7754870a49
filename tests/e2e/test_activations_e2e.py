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


PICTURES = """
import torch, nnwidgets as nw
from sklearn.datasets import load_digits
images = load_digits().images[:200, None] / 16.0
torch.manual_seed(0)
cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(256, 10))
with torch.no_grad():
    cnn[0].weight[2].zero_(); cnn[0].bias[2] = -1.0  # channel 2 can never fire
act = nw.Activations(nw.Inspector(cnn, images))
act
"""


def test_conv_layers_of_pictures_show_channel_maps_and_dead_channels(page, lab):
    nb = Notebook(page, lab, "activations_pictures.ipynb", [PICTURES])
    nb.run(0)
    relu = page.locator(".nnw-act-layer[data-name='1']")
    relu.locator(".nnw-flag-dead").wait_for()
    assert relu.locator(".nnw-flag-dead").inner_text() == "1 channels dead"
    assert "4 channels" in relu.locator(".nnw-act-head").inner_text()
    assert relu.locator("canvas.nnw-act-maps").count() == 1
    assert page.locator(".nnw-act-layer[data-name='3'] svg rect").count() == 10  # Linear: bars as before
    assert nb.python("act.layers[1].dead.tolist()") == [False, False, True, False]
