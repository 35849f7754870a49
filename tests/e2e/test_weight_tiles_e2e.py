"""WeightTiles in JupyterLab on scikit-learn's 8×8 digits: tiles drawn, click and keys select a unit."""

from .lab import Notebook

SETUP = """
import torch, nnwidgets as nw
from sklearn.datasets import load_digits
digits = load_digits()
X = torch.tensor(digits.data / 16, dtype=torch.float32); y = torch.tensor(digits.target)
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(64, 24), torch.nn.ReLU(), torch.nn.Linear(24, 10))
opt = torch.optim.Adam(net.parameters(), lr=1e-2)
for _ in range(60):
    opt.zero_grad(); torch.nn.functional.cross_entropy(net(X), y).backward(); opt.step()
tiles = nw.WeightTiles(net)
tiles
"""


def test_click_and_arrow_keys_select_a_unit(page, lab, artifacts):
    nb = Notebook(page, lab, "tiles.ipynb", [SETUP])
    nb.run(0)
    page.locator(".nnw-tile canvas").first.wait_for()
    assert page.locator(".nnw-tile").count() == 24
    assert "24 units of 8×8" in page.locator(".nnw-tiles .nnw-title").inner_text()
    page.locator(".nnw-tile[data-unit='5']").click()
    page.locator(".nnw-tile.nnw-selected[data-unit='5']").wait_for()
    page.locator(".nnw-tiles-grid").focus()
    page.keyboard.press("ArrowRight")
    page.locator(".nnw-tile.nnw-selected[data-unit='6']").wait_for()
    assert nb.python("tiles.selected_unit") == 6
    page.locator(".nnw-tiles").screenshot(path=f"{artifacts}/weight_tiles.png")
