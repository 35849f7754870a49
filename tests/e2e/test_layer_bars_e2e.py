"""LayerBars alone in JupyterLab: its controls reach Python, folding redraws the bars."""

from .lab import Notebook

SETUP = """
import torch, nnwidgets as nw
model = torch.nn.Sequential(
    torch.nn.Sequential(torch.nn.Linear(4, 100), torch.nn.Tanh()),
    torch.nn.Sequential(torch.nn.Linear(100, 10), torch.nn.Sequential(torch.nn.Linear(10, 10), torch.nn.ReLU())),
)
bars = nw.LayerBars(model)
bars
"""


def test_metric_log_and_depth_controls(page, lab):
    nb = Notebook(page, lab, "bars.ipynb", [SETUP])
    nb.run(0)
    page.locator(".nnw-bar-row[data-name='0.0']").wait_for()
    assert page.locator(".nnw-bar-row").count() == 5

    page.select_option(".nnw-bars select.nnw-metric", "output units")
    page.wait_for_function("() => document.querySelector('.nnw-bar-row[data-name=\"0.0\"] .nnw-bar-value').textContent === '100'")
    page.locator(".nnw-bars input.nnw-log").check()
    assert nb.python("[bars.metric, bars.log_scale]") == ["output units", True]

    page.select_option(".nnw-bars select.nnw-depth", "1")
    page.locator(".nnw-bar-row[data-name='1']").wait_for()
    assert page.locator(".nnw-bar-row").count() == 2
    assert nb.python("[bars.depth, bars.table['names'], bars.selected_layer]") == [1, ["0", "1"], "0"]
    tip_row = page.locator(".nnw-bar-row[data-name='1']")
    tip_row.hover()
    tip = page.locator(".nnw-bars .nnw-tooltip")
    tip.wait_for(state="visible")
    assert "params    1,120" in tip.inner_text() and "Sequential" in tip.inner_text()
