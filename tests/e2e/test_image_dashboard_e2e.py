"""The Dashboard of an image model in JupyterLab, Notebook 7 and marimo: one image selection (a click in
the gallery) and one layer selection drive the explainer, the feature maps and every other tab."""

import pytest
from playwright.sync_api import expect

from .lab import LabServer, Notebook
from .marimo_app import MarimoServer

MODEL = """
import numpy as np, torch, nnwidgets as nw
from sklearn.datasets import load_digits
digits = load_digits()
images, labels = digits.images[:300, None] / 16.0, digits.target[:300]
torch.manual_seed(0)
cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2),
                          torch.nn.Flatten(), torch.nn.Linear(32, 10))
s = nw.Inspector(cnn, images, y=labels, class_names=["<b>zero</b>"] + [str(d) for d in range(1, 10)])
dash = nw.Dashboard(s)
dash
"""


def check_dashboard(page, python=None):
    """Pick image 21 in the gallery: the feature maps (in their tab) show that picture; names stay text."""
    dash = page.locator(".nnw-dashboard")
    explainer = dash.locator(".nnw-image-explainer")
    expect(dash.locator(".nnw-ie-tile").nth(20)).to_be_visible(timeout=120_000)
    expect(explainer).to_have_attribute("data-row", "0")
    dash.locator(".nnw-ie-tile[data-row='21']").click()
    expect(explainer).to_have_attribute("data-row", "21")
    page.wait_for_function("el => el.dataset.picture && el.dataset.predictionFor === el.dataset.picture",
                           arg=explainer.element_handle(), timeout=60_000)  # the prediction drawn is for the picture shown
    dash.get_by_role("tab", name="Feature maps").click()
    maps = dash.locator(".nnw-feature-maps")
    expect(maps).to_have_attribute("data-row", "21", timeout=60_000)
    expect(maps).to_have_attribute("data-layer", "0")
    assert int(maps.get_attribute("data-channels")) == 8
    assert dash.locator("b", has_text="zero").count() == 0  # a class name with markup stays text
    if python is not None:
        assert python("[s.row, dash.feature_maps.row, dash.images.row]") == [21, 21, 21]


def test_image_dashboard_in_jupyterlab(page, lab, artifacts):
    nb = Notebook(page, lab, "image_dashboard.ipynb", [MODEL])
    nb.run(0, timeout_s=180)
    check_dashboard(page, nb.python)
    page.locator(".nnw-dashboard").screenshot(path=f"{artifacts}/lab-image-dashboard.png")


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory):
    server = LabServer(tmp_path_factory.mktemp("notebook7-images"), app="notebook")
    yield server
    server.stop()


def test_image_dashboard_in_notebook_7(page, notebook7, artifacts):
    nb = Notebook(page, notebook7, "image_dashboard.ipynb", [MODEL])
    nb.run(0, timeout_s=180)
    check_dashboard(page, nb.python)
    page.locator(".nnw-dashboard").screenshot(path=f"{artifacts}/notebook7-image-dashboard.png")


@pytest.fixture(scope="module")
def marimo(tmp_path_factory):
    server = MarimoServer(tmp_path_factory.mktemp("marimo-images"), [MODEL])
    yield server
    server.stop()


def test_image_dashboard_in_marimo(browser, marimo, artifacts):
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = context.new_page()
    try:
        page.goto(marimo.url)
        check_dashboard(page)
        assert "Jupyter widgets are not supported" not in page.content()
        page.locator(".nnw-dashboard").screenshot(path=f"{artifacts}/marimo-image-dashboard.png")
    finally:
        context.close()
