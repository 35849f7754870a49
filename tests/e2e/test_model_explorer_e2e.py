"""ModelExplorer in a real JupyterLab: clicks and keys reach Python, Python's changes reach the page."""

import os
import re

import numpy as np
import pytest

from .lab import Notebook

SETUP = """
import torch, nnwidgets as nw
torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Linear(300, 512), torch.nn.ReLU(), torch.nn.Linear(512, 64), torch.nn.ReLU(), torch.nn.Linear(64, 3)
)
explorer = nw.ModelExplorer(model)
explorer
"""


@pytest.fixture
def notebook(page, lab, request):
    nb = Notebook(page, lab, f"{request.node.name}.ipynb", [SETUP])
    nb.run(0)
    page.locator(".nnw-bars .nnw-bar-row").first.wait_for()
    page.locator(".nnw-heatmap[data-layer='0'] canvas.nnw-heat-canvas").wait_for()
    return nb


def bar(page, name):
    return page.locator(f".nnw-bar-row[data-name='{name}']")


def heat(page):
    return page.locator(".nnw-heatmap")


def test_renders_one_bar_per_layer_and_the_heatmap(page, notebook, artifacts):
    rows = page.locator(".nnw-bar-row")
    assert rows.count() == 5
    assert page.locator(".nnw-bar-row.nnw-no-weights").count() == 2
    assert bar(page, "0").get_attribute("aria-selected") == "true"
    assert "512×300 float32" in page.locator(".nnw-heat-status").inner_text()
    assert page.locator(".nnw-colorbar-min").inner_text().startswith("min -")


TRAINED = """
import torch, nnwidgets as nw
from sklearn.datasets import load_breast_cancer
data = load_breast_cancer()
X = torch.tensor((data.data - data.data.mean(0)) / data.data.std(0), dtype=torch.float32)
y = torch.tensor(data.target)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(30, 24), torch.nn.ReLU(), torch.nn.Dropout(0.1),
                            torch.nn.Linear(24, 12), torch.nn.ReLU(), torch.nn.Linear(12, 2))
opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-3)
for _ in range(150):
    opt.zero_grad(); torch.nn.functional.cross_entropy(model(X), y).backward(); opt.step()
nw.ModelExplorer(model)
"""


def test_trained_model_screenshot_for_the_readme(page, lab, artifacts):
    nb = Notebook(page, lab, "trained.ipynb", [TRAINED])
    nb.run(0)
    page.locator(".nnw-heatmap[data-layer='0'] canvas.nnw-heat-canvas").wait_for()
    assert page.locator(".nnw-bar-row").count() == 6
    canvas = page.locator(".nnw-heat-canvas").bounding_box()
    page.mouse.move(canvas["x"] + canvas["width"] * 0.4, canvas["y"] + canvas["height"] * 0.3)
    page.locator(".nnw-heatmap .nnw-tooltip").wait_for(state="visible")
    page.locator(".nnw-explorer").screenshot(path=os.path.join(artifacts, "explorer.png"))


def test_click_selects_in_python_and_redraws_heatmap(page, notebook):
    before = int(heat(page).get_attribute("data-render-count"))
    bar(page, "2").click()
    page.locator(".nnw-heatmap[data-layer='2']").wait_for()
    assert int(heat(page).get_attribute("data-render-count")) > before
    assert notebook.python("[explorer.selected_layer, explorer.heatmap.layer, explorer.heatmap.heatmap['shape']]") == [
        "2", "2", [64, 512]
    ]
    bar(page, "3").click()
    page.locator(".nnw-heatmap[data-layer='3'] .nnw-message", has_text="has no weights").wait_for()


def test_arrow_keys_move_the_selection(page, notebook):
    bar(page, "0").click()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.locator(".nnw-heatmap[data-layer='2']").wait_for()
    page.keyboard.press("ArrowLeft")
    page.locator(".nnw-bar-row[data-name='1'][aria-selected='true']").wait_for()
    assert notebook.python("explorer.selected_layer") == "1"


def test_python_selection_reaches_the_page(page, notebook):
    notebook.python("explorer.selected_layer = '4'\nexplorer.selected_layer")
    page.locator(".nnw-bar-row[data-name='4'][aria-selected='true']").wait_for()
    page.locator(".nnw-heatmap[data-layer='4']").wait_for()


def hover_tooltip(page, x_frac, y_frac):
    canvas = page.locator(".nnw-heat-canvas")
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * x_frac, box["y"] + box["height"] * y_frac)
    tip = page.locator(".nnw-heatmap .nnw-tooltip")
    tip.wait_for(state="visible")
    return tip.inner_text()


def test_hover_box_zoom_exact_values_and_reset(page, notebook):
    assert heat(page).get_attribute("data-full-resolution") == "false"
    pooled = hover_tooltip(page, 0.5, 0.5)
    assert re.search(r"rows \d+–\d+, cols \d+–\d+", pooled) and "largest |w|" in pooled

    canvas = page.locator(".nnw-heat-canvas").bounding_box()
    page.mouse.move(canvas["x"] + 10, canvas["y"] + 10)
    page.mouse.down()
    page.mouse.move(canvas["x"] + 60, canvas["y"] + 40, steps=5)
    page.mouse.up()
    page.locator(".nnw-heatmap[data-full-resolution='true']").wait_for()
    region = [int(v) for v in heat(page).get_attribute("data-region").split(",")]
    assert notebook.python("explorer.heatmap.region") == region
    assert 0 < region[0] < region[1] < 512 and 0 < region[2] < region[3] < 300

    exact = hover_tooltip(page, 0.5, 0.5)
    row, col = map(int, re.search(r"row (\d+), col (\d+)", exact).groups())
    shown = float(re.search(r"weight (\S+)", exact).group(1))
    assert np.float32(shown) == np.float32(notebook.python(f"model[0].weight[{row}, {col}].item()"))

    page.locator(".nnw-heat-canvas").dblclick()
    page.locator(".nnw-heatmap[data-full-resolution='false']").wait_for()
    assert notebook.python("explorer.heatmap.region") == []


def test_training_between_cells_redraws(page, notebook):
    before = float(heat(page).locator(".nnw-colorbar-max").inner_text().split()[1])
    count = int(heat(page).get_attribute("data-render-count"))
    notebook.python(
        "with torch.no_grad():\n    model[0].weight.mul_(3.0)\nmodel[0].weight.max().item()"
    )
    page.wait_for_function(
        "n => Number(document.querySelector('.nnw-heatmap').dataset.renderCount) > n", arg=count
    )
    after = float(heat(page).locator(".nnw-colorbar-max").inner_text().split()[1])
    assert after == pytest.approx(3 * before, rel=1e-6)
    assert notebook.stderr == ""


def test_html_in_layer_names_is_text(page, lab):
    evil = "<b>bold</b><img src=x onerror=alert(1)>"  # torch forbids dots in module names
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    nb = Notebook(page, lab, "evil.ipynb", [
        "import torch, nnwidgets as nw\n"
        "m = torch.nn.Sequential()\n"
        f"m.add_module({evil!r}, torch.nn.Linear(3, 2))\n"
        "nw.ModelExplorer(m)"
    ])
    nb.run(0)
    name = page.locator(".nnw-bar-name").first
    name.wait_for()
    page.locator(".nnw-heatmap canvas.nnw-heat-canvas").wait_for()
    assert name.inner_text() == evil
    assert page.locator(".nnw-root img, .nnw-root b").count() == 0
    assert page.locator(".nnw-heatmap .nnw-title").inner_text() == f"{evil}.weight"
    assert dialogs == []
