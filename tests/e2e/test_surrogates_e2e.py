"""Surrogates in JupyterLab: three panels with fidelity, the tree drawn with the row's path;
choosing a panel reaches Python; another row moves the path."""

from .lab import Notebook

SETUP = """
import numpy as np, torch, nnwidgets as nw
X = np.random.default_rng(0).normal(size=(400, 3))
class Additive(torch.nn.Module):
    def forward(self, x):
        return (torch.sin(2 * x[:, 0]) + 0.5 * x[:, 1] ** 2)[:, None]
sur = nw.Surrogates(Additive(), X, feature_names=["<b>a</b>", "b", "c"])
sur
"""


def test_panels_tree_choice_and_row(page, lab):
    nb = Notebook(page, lab, "surrogates.ipynb", [SETUP])
    nb.run(0)
    page.locator(".nnw-surrogate[data-kind='tree'] svg").wait_for()
    assert page.locator(".nnw-surrogate").count() == 3
    r2 = nb.python("{k: round(v['r2'], 3) for k, v in sur.wait().fitted['fidelity'].items()}")
    assert page.locator(".nnw-surrogate[data-kind='gam'] .nnw-r2").inner_text() == f"R² {r2['gam']:.3f}"
    assert page.locator(".nnw-tree-node").count() == 15
    assert page.locator(".nnw-tree-node.nnw-on-path").count() == 4
    assert "<b>a</b>" in page.locator(".nnw-surrogate[data-kind='gam']").inner_text()
    page.locator(".nnw-surrogate[data-kind='tree'] .nnw-surrogate-head").click()
    page.locator(".nnw-surrogates[data-chosen='tree']").wait_for()
    assert nb.python("sur.chosen") == "tree"
    leaves = set()
    for row in range(6):
        nb.python(f"sur.row = {row}\nsur.row_predictions['leaf']")
        page.wait_for_function(f"() => document.querySelector('.nnw-surrogates').dataset.leaf === String({nb.python('sur.row_predictions[' + repr('leaf') + ']')})")
        leaves.add(page.locator(".nnw-surrogates").get_attribute("data-leaf"))
    assert len(leaves) > 1
