"""A cell trains the model for several seconds: the heatmap in the page changes while the cell's prompt
still shows [*], and once the cell ends the view shows the model exactly as it is."""

from .lab import Notebook

SETUP = """
import os, time, torch, nnwidgets as nw
from sklearn.datasets import load_digits
digits = load_digits()
inputs, targets = torch.tensor(digits.data / 16.0, dtype=torch.float32), torch.tensor(digits.target)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.ReLU(), torch.nn.Linear(16, 10))
heat = nw.WeightHeatmap(model, layer="0")
heat
"""

# Trains until the test has seen the page change (it drops a file next to the notebook), at most 90 s.
TRAIN = """
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
start, steps = time.monotonic(), 0
while not os.path.exists("seen.flag") and time.monotonic() - start < 90:
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(inputs), targets).backward()
    optimizer.step()
    steps += 1
print("trained", steps, "steps")
"""


def test_heatmap_changes_while_the_cell_runs(page, lab):
    nb = Notebook(page, lab, "live.ipynb", [SETUP, TRAIN])
    nb.run(0)
    canvas = page.locator(".nnw-heatmap[data-parameter='weight'] .nnw-heat-canvas")
    canvas.wait_for()
    before = canvas.evaluate("c => c.toDataURL()")
    prompt = nb.cell(1).locator(".jp-InputPrompt")

    nb.cell(1).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+Enter")
    # Both in one check: the picture differs from the one before training, and the cell still runs.
    page.wait_for_function(
        "([canvas, prompt, before]) => prompt.textContent.includes('*') && canvas.toDataURL() !== before",
        arg=[canvas.element_handle(), prompt.element_handle(), before], timeout=60_000,
    )
    (lab.root / "seen.flag").touch()
    page.wait_for_function("el => /\\[\\d+\\]/.test(el.textContent)", arg=prompt.element_handle(), timeout=60_000)
    page.locator(".jp-OutputArea-output", has_text="trained").wait_for()

    assert nb.python("heat.wait()\nbool((nw.core.decode_array(heat.heatmap['values']) == model[0].weight.detach().numpy()).all())")
