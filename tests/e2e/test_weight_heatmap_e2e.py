"""WeightHeatmap alone in JupyterLab: picking a parameter reaches Python; 'no weights' state; Escape resets zoom."""

from .lab import Notebook

SETUP = """
import torch, nnwidgets as nw
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU())
heat = nw.WeightHeatmap(model, layer="0")
heat
"""


def test_parameter_picker_zoom_reset_and_no_weights(page, lab):
    nb = Notebook(page, lab, "heat.ipynb", [SETUP])
    nb.run(0)
    root = page.locator(".nnw-heatmap[data-parameter='weight']")
    root.wait_for()
    assert "8×27 float32" in page.locator(".nnw-heat-status").inner_text()
    assert "input channel × kernel position" in page.locator(".nnw-heatmap").inner_text()

    page.select_option(".nnw-heatmap select.nnw-parameter", "bias")
    page.locator(".nnw-heatmap[data-parameter='bias']").wait_for()
    assert nb.python("[heat.parameter, heat.heatmap['shape']]") == ["bias", [1, 8]]

    nb.python("heat.parameter = 'weight'\nheat.region = [0, 2, 0, 3]\nheat.region")
    page.locator(".nnw-heatmap[data-region='0,2,0,3']").wait_for()
    page.locator(".nnw-heat-stage").focus()
    page.keyboard.press("Escape")
    page.locator(".nnw-heatmap[data-region='0,8,0,27']").wait_for()
    assert nb.python("heat.region") == []

    nb.python("heat.layer = '1'\nheat.message")
    page.locator(".nnw-heatmap .nnw-message", has_text="1 (ReLU) has no weights").wait_for()
    assert page.locator(".nnw-heat-canvas").is_hidden()
