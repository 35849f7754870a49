"""The Dashboard with a Trainer — a playground on the user's own model and data — in JupyterLab and marimo:
▶ in the page trains between cells, the weights in the Model tab and the monitor in the Training tab move
with it, ⏸ stops it, and Python sees the views matching the model."""

from playwright.sync_api import expect

from .lab import Notebook
from .marimo_app import MarimoServer

PLAYGROUND = """
import numpy as np, torch, nnwidgets as nw
from sklearn.datasets import load_iris
iris = load_iris()
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
s = nw.Inspector(net, iris.data, y=iris.target, class_names=list(iris.target_names))
trainer = nw.Trainer(s, lr=0.02, batch_size=16)
dash = nw.Dashboard(s, trainer=trainer)
dash
"""

def wait_for_more(page, locator, attribute: str, than: int) -> None:
    """Wait until the element's numeric data attribute exceeds ``than`` (through marimo's shadow DOM too)."""
    page.wait_for_function(f"el => Number(el.dataset.{attribute} || 0) > {than}", arg=locator.element_handle())


def play_and_watch(page) -> None:
    """Press ▶, see the weights and the monitor move, press ⏸."""
    dashboard = page.locator(".nnw-dashboard")
    canvas = dashboard.locator(".nnw-heatmap .nnw-heat-canvas")
    expect(canvas).to_be_visible(timeout=90_000)
    before = canvas.evaluate("c => c.toDataURL()")
    dashboard.locator(".nnw-trainer button[aria-label='play']").click()
    expect(dashboard.locator(".nnw-trainer")).to_have_attribute("data-playing", "true")
    wait_for_more(page, dashboard.locator(".nnw-trainer"), "steps", 50)
    page.wait_for_function("([c, before]) => c.toDataURL() !== before", arg=[canvas.element_handle(), before])
    dashboard.get_by_role("tab", name="Training").click()
    monitor = dashboard.locator(".nnw-monitor")
    expect(monitor).to_be_visible()
    wait_for_more(page, monitor, "totalSteps", 50)
    dashboard.locator(".nnw-trainer button[aria-label='pause']").click()
    expect(dashboard.locator(".nnw-trainer")).to_have_attribute("data-playing", "false")


def test_playground_in_jupyterlab(page, lab, artifacts):
    nb = Notebook(page, lab, "playground.ipynb", [PLAYGROUND])
    nb.run(0)
    play_and_watch(page)
    steps = nb.python("trainer.step_count")
    assert steps > 50 and not nb.python("trainer.playing")
    exact = ("dash.wait()\nimport time\nwhile s.training: time.sleep(0.05)\ndash.wait()\n"
             "bool((nw.core.decode_array(dash.heatmap.heatmap['values']) == net[0].weight.detach().numpy()).all())"
             " and dash.monitor.total_steps == trainer.step_count")
    assert nb.python(exact)
    page.locator(".nnw-dashboard").screenshot(path=f"{artifacts}/playground.png")


def test_playground_in_marimo(browser, tmp_path):
    server = MarimoServer(tmp_path, [PLAYGROUND])
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = context.new_page()
    try:
        page.goto(server.url)
        play_and_watch(page)
    finally:
        context.close()
        server.stop()
