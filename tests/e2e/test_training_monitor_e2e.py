"""TrainingMonitor in JupyterLab: the loss curve grows in the page while the training cell still runs;
afterwards the step slider (keyboard) scrubs the selected layer's weights back in time."""

from .lab import Notebook

SETUP = """
import time, torch, nnwidgets as nw
torch.manual_seed(0)
X, y = torch.randn(256, 6), torch.randn(256, 1)
model = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
monitor = nw.TrainingMonitor(model, X.numpy())
monitor
"""

TRAIN = """
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
end = time.monotonic() + 8
while time.monotonic() < end:
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(X), y)
    loss.backward()
    optimizer.step()
    monitor.log(loss=loss.item())
    time.sleep(0.01)
steps = monitor.recorder.step
"""


def loss_points(page) -> int:
    return int(page.locator(".nnw-mon-curve[data-name='loss']").get_attribute("data-points") or 0)


def test_loss_curve_grows_during_the_cell_then_the_slider_scrubs(page, lab):
    nb = Notebook(page, lab, "monitor.ipynb", [SETUP, TRAIN])
    nb.run(0)
    root = page.locator(".nnw-monitor")
    root.wait_for()
    assert page.locator(".nnw-monitor .nnw-message", has_text="Nothing recorded yet").is_visible()

    # Start the training cell without waiting for it to end.
    nb.cell(1).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    prompt = nb.cell(1).locator(".jp-InputPrompt")
    page.locator(".nnw-mon-curve[data-name='loss']").wait_for(timeout=30_000)
    first = loss_points(page)
    page.wait_for_function(
        "n => Number(document.querySelector(\".nnw-mon-curve[data-name='loss']\").dataset.points) > n + 5",
        arg=first, timeout=30_000,
    )
    assert "*" in prompt.inner_text(), "the curve must grow while the cell still runs"
    assert loss_points(page) > first
    assert page.locator(".nnw-mon-layer-row[data-layer='0'] svg").count() >= 3  # small multiples drawn
    assert page.locator(".nnw-mon-layer-row[data-layer='0'] .nnw-mon-reference").count() == 1  # 1e-3 line

    # After the cell: the page settles on the final step.
    page.wait_for_function("el => !el.textContent.includes('*')", arg=prompt.element_handle(), timeout=60_000)
    steps = nb.python("steps")
    page.locator(f".nnw-monitor[data-total-steps='{steps}'][data-heat-live='true']").wait_for(timeout=30_000)
    live_checksum = root.get_attribute("data-heat-checksum")

    # Scrub with the keyboard: Home goes to the first recorded picture (step 1).
    page.locator(".nnw-mon-slider").focus()
    page.keyboard.press("Home")
    page.locator(".nnw-monitor[data-heat-step='1'][data-heat-live='false']").wait_for(timeout=30_000)
    assert root.get_attribute("data-heat-checksum") != live_checksum
    assert nb.python("[monitor.step, monitor.heatmap['step']]") == [1, 1]
    assert "as at step 1" in page.locator(".nnw-monitor .nnw-mon-note").first.inner_text()

    # Choose another layer with the keyboard: the picture follows, at the same step.
    page.locator(".nnw-mon-layers").focus()
    page.keyboard.press("ArrowDown")
    page.locator(".nnw-mon-layer-row.nnw-selected[data-layer='2']").wait_for()
    page.locator(".nnw-monitor[data-heat-step='1']").wait_for()
    assert nb.python("[monitor.selected_layer, monitor.heatmap['shape']]") == ["2", [1, 16]]

    page.locator(".nnw-mon-slider").focus()
    page.keyboard.press("End")
    page.locator(".nnw-monitor[data-heat-live='true']").wait_for()
    assert nb.python("monitor.step") == -1
