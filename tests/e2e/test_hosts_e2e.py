"""The layouts (Dashboard, Explainer) in the other hosts: Notebook 7 and marimo, which renders no
ipywidgets containers. Each is one widget composed with anywidget's composition, so the same views
appear, and a click in one view reaches every view of the inspector."""

import re

import pytest
from playwright.sync_api import expect

from .lab import LabServer, Notebook
from .marimo_app import MarimoServer

MODEL = """
import numpy as np, torch, nnwidgets as nw
torch.manual_seed(0)
X = np.random.default_rng(0).normal(size=(200, 4))
net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
s = nw.Inspector(net, X, feature_names=["<b>a</b>", "b", "c", "d"], class_names=["x", "y", "z"])
"""


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory):
    server = LabServer(tmp_path_factory.mktemp("notebook7"), app="notebook")
    yield server
    server.stop()


def test_dashboard_and_explainer_in_notebook_7(page, notebook7, artifacts):
    nb = Notebook(page, notebook7, "layouts.ipynb", [MODEL + "dash = nw.Dashboard(s)\ndash", "ex = nw.Explainer(s, num_samples=300)\nex"])
    nb.run(0)
    nb.run(1)
    dash_editor = page.locator(".nnw-dashboard .nnw-editor")
    ex_editor = page.locator(".nnw-explainer .nnw-editor")
    expect(dash_editor).to_have_attribute("data-row", "0")
    expect(ex_editor).to_have_attribute("data-row", "0")
    page.locator(".nnw-dashboard").get_by_role("tab", name="Inside").click()
    activations = page.locator(".nnw-dashboard .nnw-activations")
    expect(activations.locator(".nnw-act-layer").first).to_be_visible()
    before = activations.get_attribute("data-for-values")
    ex_editor.locator("button", has_text="▶").click()  # a click in the explainer's editor...
    expect(dash_editor).to_have_attribute("data-row", "1")  # ...moves the dashboard's editor too
    expect(activations).not_to_have_attribute("data-for-values", before)
    expect(page.locator(".nnw-explainer .nnw-lime")).to_have_attribute("data-for-values", ex_editor.get_attribute("data-values"))
    assert nb.python("[s.row, dash.activations.row, ex.lime.row]") == [1, 1, 1]
    assert page.locator(".nnw-feature-name b").count() == 0  # names stay text
    page.locator(".nnw-dashboard").screenshot(path=f"{artifacts}/notebook7-dashboard.png")


@pytest.fixture(scope="module")
def marimo(tmp_path_factory):
    server = MarimoServer(tmp_path_factory.mktemp("marimo"), [
        MODEL + "dash = nw.Dashboard(s)\ndash",
        "ex = nw.Explainer(s, num_samples=300)\nex",
    ])
    yield server
    server.stop()


def test_dashboard_and_explainer_in_marimo(browser, marimo, artifacts):
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = context.new_page()
    try:
        page.goto(marimo.url)
        dash_editor = page.locator(".nnw-dashboard .nnw-editor")
        ex_editor = page.locator(".nnw-explainer .nnw-editor")
        expect(dash_editor).to_have_attribute("data-row", "0", timeout=90_000)
        expect(ex_editor).to_have_attribute("data-row", "0")
        expect(page.locator(".nnw-explainer .nnw-lime .nnw-dbar-row").first).to_be_visible(timeout=60_000)
        page.locator(".nnw-dashboard").get_by_role("tab", name="Attributions").click()
        attributions = page.locator(".nnw-dashboard .nnw-attributions")
        expect(attributions.locator(".nnw-attr-method").first).to_be_visible()
        before = attributions.get_attribute("data-for-values")
        ex_editor.locator("button", has_text="▶").click()
        expect(dash_editor).to_have_attribute("data-row", "1")
        expect(attributions).not_to_have_attribute("data-for-values", before)
        expect(page.locator(".nnw-explainer .nnw-lime")).to_have_attribute("data-for-values", ex_editor.get_attribute("data-values"))
        assert "Jupyter widgets are not supported" not in page.content()
        expect(page.locator(".nnw-explainer .nnw-gam .nnw-curve").first).to_be_visible(timeout=60_000)
        assert re.search(r"fidelity on \d+ held-out rows", page.locator(".nnw-explainer .nnw-gam .nnw-fidelity").inner_text())
        page.locator(".nnw-dashboard").screenshot(path=f"{artifacts}/marimo-dashboard.png")
    finally:
        context.close()
