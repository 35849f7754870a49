"""Trainer in JupyterLab: ▶ trains between cells (the counter grows in the page and in Python), ⏸ stops
it, the step button adds one, the learning rate typed in the page reaches the optimizer, reset gives
step 0 and the initial weights."""

from .lab import Notebook

SETUP = """
import copy, torch, nnwidgets as nw
torch.manual_seed(0)
X = torch.randn(2000, 4); y = (X[:, 0] > X[:, 1]).long()
model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
initial = copy.deepcopy(model.state_dict())
trainer = nw.Trainer(model, X, y, lr=1e-2, batch_size=32)
trainer
"""

STEPS = "document.querySelector('.nnw-trainer').dataset.steps"


def test_play_pause_step_lr_and_reset(page, lab):
    nb = Notebook(page, lab, "trainer.ipynb", [SETUP])
    nb.run(0)
    root = page.locator(".nnw-trainer[data-steps='0'][data-playing='false']")
    root.wait_for()
    assert "no steps yet" in page.locator(".nnw-trainer-curve").text_content()

    page.click(".nnw-trainer button[aria-label='play']")
    page.locator(".nnw-trainer[data-playing='true'] button[aria-label='pause']").wait_for()
    page.wait_for_function(f"() => Number({STEPS}) > 20")
    assert nb.python("trainer.step_count") > 20
    page.wait_for_function(f"() => Number({STEPS}) > 40")  # training goes on after the cell
    assert page.locator(".nnw-trainer-curve path.nnw-curve-line").count() == 1
    assert page.locator(".nnw-trainer-curve .nnw-curve-axis text").count() > 4

    page.click(".nnw-trainer button[aria-label='pause']")
    page.locator(".nnw-trainer[data-playing='false']").wait_for()
    stopped = nb.python("trainer.step_count")
    assert nb.python("[trainer.playing, trainer.step_count]") == [False, stopped]
    page.locator(f".nnw-trainer[data-steps='{stopped}']").wait_for()

    page.click(".nnw-trainer button[aria-label='train one step']")
    page.locator(f".nnw-trainer[data-steps='{stopped + 1}']").wait_for()
    assert nb.python("[trainer.step_count, trainer.history['loss'][-1][0]]") == [stopped + 1, stopped + 1]

    lr = page.locator(".nnw-trainer input.nnw-trainer-lr")
    lr.fill("0.0042")
    lr.press("Enter")
    page.locator(".nnw-trainer[data-lr='0.0042']").wait_for()
    assert nb.python("[trainer.lr, [g['lr'] for g in trainer.torch_optimizer.param_groups]]") == [0.0042, [0.0042]]

    page.select_option(".nnw-trainer select.nnw-trainer-optimizer", "sgd_momentum")
    page.locator(".nnw-trainer[data-optimizer='sgd_momentum']").wait_for()
    assert nb.python("[type(trainer.torch_optimizer).__name__, trainer.torch_optimizer.param_groups[0]['lr']]") == ["SGD", 0.0042]

    page.click(".nnw-trainer button[aria-label='play']")
    page.wait_for_function(f"() => Number({STEPS}) > {stopped + 10}")
    page.click(".nnw-trainer button[aria-label='reset to the initial weights']")
    page.locator(".nnw-trainer[data-steps='0'][data-playing='false']").wait_for()
    assert nb.python("[trainer.step_count, trainer.playing, all(torch.equal(model.state_dict()[k], v) "
                     "for k, v in initial.items())]") == [0, False, True]

    page.locator(".nnw-trainer-lr-slider").focus()  # keyboard: the slider moves the rate by a step
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => Number(document.querySelector('.nnw-trainer').dataset.lr) > 0.0042")
    assert nb.python("trainer.lr") > 0.0042
