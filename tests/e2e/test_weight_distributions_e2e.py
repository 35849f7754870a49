"""WeightDistributions in JupyterLab: histograms drawn, a click selects a layer in Python, and a
training step between cells redraws them."""

from .lab import Notebook

SETUP = """
import torch, nnwidgets as nw
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
dist = nw.WeightDistributions(net)
dist
"""


def test_histograms_selection_and_training(page, lab):
    nb = Notebook(page, lab, "distributions.ipynb", [SETUP])
    nb.run(0)
    page.locator(".nnw-dist[data-name='2'] svg").first.wait_for()
    assert page.locator(".nnw-dist").count() == 2
    curves = page.locator(".nnw-dist[data-name='0'] path.nnw-init")
    assert curves.evaluate_all("paths => paths.map(p => p.dataset.init)") == ["PyTorch default", "Glorot", "He"]
    assert page.locator(".nnw-dist[data-name='0'] svg").first.locator("rect").count() == 40
    page.locator(".nnw-dist[data-name='2']").click()
    page.locator(".nnw-dist.nnw-selected[data-name='2']").wait_for()
    assert nb.python("dist.selected_layer") == "2"
    before = page.locator(".nnw-distributions").get_attribute("data-stds")
    nb.python("with torch.no_grad():\n    net[0].weight.mul_(2)\ndist.selected_layer")
    page.wait_for_function("s => document.querySelector('.nnw-distributions').dataset.stds !== s", arg=before)
    first_std = float(page.locator(".nnw-distributions").get_attribute("data-stds").split(",")[0])
    assert abs(first_std - 2 * float(before.split(",")[0])) < 1e-4
