"""Importance in JupyterLab: bars and ICE drawn; changing the metric in the page recomputes in
Python; another row moves the ICE lines."""

from .lab import Notebook

SETUP = """
import numpy as np, torch, nnwidgets as nw
X = np.random.default_rng(0).normal(size=(300, 4))
class Planted(torch.nn.Module):
    def forward(self, x):
        z = 3 * x[:, 0] - 2 * x[:, 2]
        return torch.stack([torch.zeros_like(z), z], 1)
imp = nw.Importance(Planted(), X, feature_names=["a", "b", "c", "d"], repeats=3)
imp
"""


def test_metric_change_and_row_change(page, lab):
    nb = Notebook(page, lab, "importance.ipynb", [SETUP])
    nb.run(0)
    page.locator(".nnw-importance .nnw-perm svg").wait_for()
    page.locator(".nnw-ice svg").first.wait_for()
    assert page.locator(".nnw-ice").count() == 4
    first = page.locator(".nnw-importance").get_attribute("data-importance")
    page.select_option(".nnw-importance select.nnw-metric", "log loss")
    page.wait_for_function("v => document.querySelector('.nnw-importance').dataset.importance !== v", arg=first)
    assert nb.python("imp.wait().permutation.metric") == "log loss"
    before = page.locator(".nnw-importance").get_attribute("data-for-values")
    nb.python("imp.row = 9\nimp.row")
    page.wait_for_function("v => document.querySelector('.nnw-importance').dataset.forValues !== v", arg=before)
