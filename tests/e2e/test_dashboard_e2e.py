"""Dashboard in JupyterLab: selecting a row redraws activations and attributions; selecting a
layer in the bars highlights it in the activations; tabs switch views."""

from .lab import Notebook

SETUP = """
import torch, nnwidgets as nw
from sklearn.datasets import load_digits
digits = load_digits()
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
s = nw.Inspector(net, digits.data / 16, class_names=[str(d) for d in range(10)])
dash = nw.Dashboard(s, input_shape=(8, 8))
dash
"""


def test_row_and_layer_selection_reach_every_view(page, lab, artifacts):
    page.set_viewport_size({"width": 1500, "height": 1200})
    nb = Notebook(page, lab, "dashboard.ipynb", [SETUP])
    nb.run(0)
    page.locator(".nnw-dashboard .nnw-bars .nnw-bar-row").first.wait_for()
    page.get_by_role("tab", name="Attributions").click()  # each tab is drawn when first shown
    page.locator(".nnw-attributions .nnw-attr-method").first.wait_for()
    page.get_by_role("tab", name="Inside").click()
    page.locator(".nnw-activations .nnw-act-layer").first.wait_for()
    page.locator(".nnw-tiles").first.wait_for()
    before = page.locator(".nnw-activations").get_attribute("data-for-values")
    attr_before = page.locator(".nnw-attributions").get_attribute("data-for-values")
    page.locator(".nnw-editor button", has_text="▶").click()
    page.wait_for_function("v => document.querySelector('.nnw-activations').dataset.forValues !== v", arg=before)
    # The Attributions tab is hidden: its view is parked and computes nothing until it is chosen.
    assert nb.python("[s.row, dash.activations.row, dash.attributions.row, dash.attributions.working]") == [1, 1, 1, False]
    assert page.locator(".nnw-attributions").get_attribute("data-for-values") == attr_before
    page.get_by_role("tab", name="Attributions").click()
    page.wait_for_function("v => document.querySelector('.nnw-attributions').dataset.forValues !== v", arg=attr_before)
    page.get_by_role("tab", name="Inside").click()

    page.get_by_role("tab", name="Model").click()
    page.locator(".nnw-bar-row[data-name='1']").click()
    page.get_by_role("tab", name="Inside").click()
    page.locator(".nnw-act-layer.nnw-selected[data-name='1']").wait_for()
    assert nb.python("dash.selected_layer") == "1"
    page.locator(".nnw-dashboard").screenshot(path=f"{artifacts}/dashboard.png")
