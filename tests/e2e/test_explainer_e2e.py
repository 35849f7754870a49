"""Explainer in a real JupyterLab: a slider move reaches Python and redraws prediction and LIME;
another row moves the GAM markers; feature and class names with HTML stay text."""

import numpy as np

from .lab import Notebook

SETUP = """
import numpy as np, torch, nnwidgets as nw
rng = np.random.default_rng(0)
X = rng.normal(size=(300, 4))
class Planted(torch.nn.Module):
    def forward(self, x):
        z = 3 * x[:, 0] - 2 * x[:, 2]
        return torch.stack([torch.zeros_like(z), z], 1)
names = ["<b>alpha</b>", "beta", "<img src=x onerror=alert(1)>", "delta"]
ex = nw.Explainer(Planted(), X, feature_names=names, class_names=["<i>no</i>", "yes"], num_samples=1000)
ex
"""


def wait_idle(page, selector):
    page.wait_for_function(f"() => document.querySelector('{selector}')?.dataset.busy === 'false'")


def test_slider_prediction_lime_and_gam_follow(page, lab):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    nb = Notebook(page, lab, "explainer.ipynb", [SETUP])
    nb.run(0)
    page.locator(".nnw-lime .nnw-dbar-row").first.wait_for()
    page.locator(".nnw-gam .nnw-curve").first.wait_for()
    wait_idle(page, ".nnw-lime")

    # The editor says what the model outputs, and why (in its tooltip).
    kind = page.locator(".nnw-editor .nnw-output-kind")
    assert kind.inner_text() == "model outputs logits" and "sum to 1" in kind.get_attribute("title")

    # Names with HTML are text, everywhere they appear.
    assert page.locator(".nnw-editor .nnw-feature-name").first.inner_text() == "<b>alpha</b>"
    assert page.locator(".nnw-editor .nnw-class-row").first.inner_text().startswith("<i>no</i>")
    assert page.locator(".nnw-root img, .nnw-root i, .nnw-feature-name b").count() == 0

    # Move the first feature's slider with the keyboard: prediction and LIME redraw for the new values.
    lime_before = page.locator(".nnw-lime").get_attribute("data-weights")
    slider = page.locator(".nnw-editor .nnw-feature-slider").first
    slider.focus()
    for _ in range(15):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("End")  # the largest x0: class "yes" becomes certain
    values_in_page = page.locator(".nnw-editor").get_attribute("data-values")
    page.wait_for_function(
        "v => document.querySelector('.nnw-editor').dataset.predictionFor === v", arg=values_in_page
    )
    page.wait_for_function(
        "v => document.querySelector('.nnw-lime').dataset.forValues === v", arg=values_in_page
    )
    assert page.locator(".nnw-lime").get_attribute("data-weights") != lime_before
    python = nb.python("[ex.values, ex.lime.values, ex.editor.prediction_values.tolist()]")
    values, lime_values, prediction = python
    assert values == lime_values and values[0] == X_max_first(nb)
    assert [float(v) for v in values_in_page.split(",")] == [float(f"{v:.6g}") for v in values]
    shown = [float(v) for v in page.locator(".nnw-editor").get_attribute("data-prediction").split(",")]
    assert np.allclose(shown, prediction, rtol=1e-5)

    # Another row: the GAM markers move to its values.
    markers_before = page.locator(".nnw-gam").get_attribute("data-markers")
    page.locator(".nnw-editor button", has_text="▶").click()
    page.wait_for_function("() => document.querySelector('.nnw-editor').dataset.row === '1'")
    page.wait_for_function(
        "m => document.querySelector('.nnw-gam').dataset.markers !== m", arg=markers_before
    )
    assert nb.python("[ex.row, ex.gam.row, ex.gam.values == X[1].tolist()]") == [1, 1, True]

    # Click a small multiple to enlarge it; the selection reaches Python.
    page.locator(".nnw-gam .nnw-curve").first.click()
    page.locator(".nnw-gam .nnw-enlarged svg").wait_for()
    assert nb.python("ex.gam.selected_feature") == int(page.locator(".nnw-gam .nnw-curve").first.get_attribute("data-feature"))
    assert dialogs == []


def X_max_first(nb):
    return nb.python("float(X[:, 0].max())")


def test_error_is_shown_then_recovers(page, lab):
    nb = Notebook(page, lab, "explainer_error.ipynb", [SETUP])
    nb.run(0)
    page.locator(".nnw-lime .nnw-dbar-row").first.wait_for()
    nb.python(
        "class Fragile(torch.nn.Module):\n"
        "    def forward(self, x):\n"
        "        if (x[:, 1] > 50).any(): raise RuntimeError('feature beta out of range')\n"
        "        return torch.stack([torch.zeros(len(x)), x[:, 0]], 1)\n"
        "lime = nw.LimeExplainer(Fragile(), X, num_samples=300)\n"
        "display(lime)\n"
        "lime.values = [0, 99, 0, 0]\n"
        "lime.wait().error"
    )
    page.locator(".nnw-lime .nnw-error", has_text="feature beta out of range").last.wait_for()
    nb.python("lime.values = [0, 1, 0, 0]\nlime.wait().error")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.nnw-lime')].pop().querySelector('.nnw-error').hidden"
    )


BREAST_CANCER = """
import torch, nnwidgets as nw
from sklearn.datasets import load_breast_cancer
d = load_breast_cancer(); mean, std = d.data.mean(0), d.data.std(0)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(30, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
X = torch.tensor((d.data - mean) / std, dtype=torch.float32); y = torch.tensor(d.target)
opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-3)
for _ in range(100):
    opt.zero_grad(); torch.nn.functional.cross_entropy(model(X), y).backward(); opt.step()
ex = nw.Explainer(model, d.data, feature_names=d.feature_names, class_names=d.target_names,
                  preprocess=lambda v: (v - mean) / std, row=7)
ex
"""


def test_breast_cancer_screenshot_for_the_readme(page, lab, artifacts):
    page.set_viewport_size({"width": 1600, "height": 1300})
    nb = Notebook(page, lab, "explainer_bc.ipynb", [BREAST_CANCER])
    nb.run(0)
    page.locator(".nnw-gam .nnw-curve").first.wait_for()
    page.locator(".nnw-lime .nnw-dbar-row").first.wait_for()
    wait_idle(page, ".nnw-gam")
    assert page.locator(".nnw-gam .nnw-curve").count() == 30
    fidelity = page.locator(".nnw-gam .nnw-fidelity").inner_text()
    assert fidelity.startswith("fitted on 455 rows; fidelity on 114 held-out rows: R² 0.")
    page.locator(".nnw-explainer").screenshot(path=f"{artifacts}/explainer.png")
