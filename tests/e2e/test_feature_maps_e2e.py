"""FeatureMaps in JupyterLab on a digits CNN: filters and the map grid drawn, a click enlarges a channel and
Python reads the unit back, keys select another, a row set from Python redraws the grid, sorting reorders it."""

from .lab import Notebook

SETUP = """
import torch, nnwidgets as nw
from sklearn.datasets import load_digits
digits = load_digits()
images = digits.images[:300, None] / 16.0
torch.manual_seed(0)
cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2),
                          torch.nn.Flatten(), torch.nn.Linear(32, 10))
s = nw.Inspector(cnn, images, class_names=[str(d) for d in range(10)])
fm = nw.FeatureMaps(s)
fm
"""

TILE = 43  # 8 × 8 maps drawn 5 px a cell (40 px) with 3 px gaps: lib/feature_grid.js gridLayout


def test_click_enlarges_a_channel_and_the_grid_follows_the_row(page, lab, artifacts):
    nb = Notebook(page, lab, "feature_maps.ipynb", [SETUP])
    nb.run(0)
    root = page.locator(".nnw-feature-maps[data-layer='0']")
    root.wait_for()
    assert root.get_attribute("data-channels") == "8" and root.get_attribute("data-row") == "0"
    assert "first-layer filters: 0 (Conv2d), 8 × 1 × 3 × 3" in page.locator(".nnw-fm-filters-head").inner_text()
    assert page.locator(".nnw-fm-layer option").count() == 3  # conv, ReLU, pooling

    page.locator(".nnw-fm-grid canvas").click(position={"x": 2 * TILE + 20, "y": 20})
    page.locator(".nnw-fm-enlarged[data-unit='2']").wait_for()
    assert "channel 2 of 0" in page.locator(".nnw-fm-enlarged").inner_text()
    assert nb.python("fm.unit") == 2

    page.locator(".nnw-fm-grid").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.locator(".nnw-fm-enlarged[data-unit='3']").wait_for()
    assert nb.python("fm.unit") == 3

    before = root.get_attribute("data-for-values")
    count = int(root.get_attribute("data-render-count"))
    assert nb.python("s.row = 7\ns.row") == 7
    page.wait_for_function(
        "([v, n]) => { const r = document.querySelector('.nnw-feature-maps'); "
        "return r.dataset.row === '7' && r.dataset.forValues !== v && Number(r.dataset.renderCount) > n; }",
        arg=[before, count])
    assert page.locator(".nnw-fm-enlarged[data-unit='3']").is_visible()  # same layer: the unit stays

    page.locator(".nnw-feature-maps label").click()  # sort by mean activation
    sorted_, expected = nb.python("[fm.sort_by_mean, ','.join(map(str, fm.order.tolist()))]")
    assert sorted_ is True
    page.wait_for_function("o => document.querySelector('.nnw-feature-maps').dataset.order === o", arg=expected)
    page.locator(".nnw-feature-maps").screenshot(path=f"{artifacts}/feature_maps.png")
