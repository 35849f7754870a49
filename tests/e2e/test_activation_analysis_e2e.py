"""ActivationAnalysis in JupyterLab: one panel per activation layer with its curve; a click
selects the layer in Python."""

from .lab import Notebook

SETUP = """
import torch, nnwidgets as nw
from sklearn.datasets import load_digits
X = load_digits().data / 16
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 16), torch.nn.Tanh(), torch.nn.Linear(16, 10))
aa = nw.ActivationAnalysis(net, X)
aa
"""


def test_panels_curves_and_selection(page, lab):
    nb = Notebook(page, lab, "analysis.ipynb", [SETUP])
    nb.run(0)
    page.locator(".nnw-aa[data-name='3'] svg").first.wait_for()
    assert page.locator(".nnw-aa").count() == 2
    assert page.locator(".nnw-aa path.nnw-act-curve").count() == 2
    dead = [float(v) for v in page.locator(".nnw-activation-analysis").get_attribute("data-dead").split(",")]
    assert dead == [round(v, 4) for v in nb.python("[u.dead_fraction for u in aa.uses]")]
    page.locator(".nnw-aa[data-name='3']").click()
    page.locator(".nnw-aa.nnw-selected[data-name='3']").wait_for()
    assert nb.python("aa.selected_layer") == "3"
