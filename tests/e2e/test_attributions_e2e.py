"""Attributions in JupyterLab beside an InputEditor of the same inspector: another row redraws them."""

import numpy as np

from .lab import Notebook

SETUP = """
import numpy as np, torch, ipywidgets, nnwidgets as nw
torch.manual_seed(0)
X = np.random.default_rng(0).normal(size=(100, 4))
net = torch.nn.Linear(4, 2)
s = nw.Inspector(net, X, feature_names=["a", "b", "<img src=x>", "d"])
editor, attr = nw.InputEditor(s), nw.Attributions(s)
ipywidgets.VBox([editor, attr])
"""


def test_next_row_redraws_attributions(page, lab):
    nb = Notebook(page, lab, "attributions.ipynb", [SETUP])
    nb.run(0)
    block = page.locator(".nnw-attributions .nnw-attr-method[data-method='integrated gradients']")
    block.locator(".nnw-dbar-row").first.wait_for()
    assert page.locator(".nnw-attributions .nnw-attr-method").count() == 3
    before = page.locator(".nnw-attributions").get_attribute("data-for-values")
    page.locator(".nnw-editor button", has_text="▶").click()
    page.wait_for_function("v => document.querySelector('.nnw-attributions').dataset.forValues !== v", arg=before)
    shown = sorted(float(v) for v in block.locator(".nnw-dbar-row").evaluate_all("rows => rows.map(r => r.dataset.value)"))
    expected = sorted(nb.python("[attr.row, attr.result.values[2].tolist()]")[1])
    assert np.allclose(shown, expected)
    assert nb.python("attr.row") == 1
    assert page.locator(".nnw-attributions img").count() == 0
    assert "<img src=x> = " in block.inner_text()
