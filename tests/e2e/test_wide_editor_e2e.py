"""An editor on 300 features in JupyterLab: only the rows in view are in the page, a search box finds
a feature, the list can be ordered by the row's attributions, and a slider still reaches Python."""

import numpy as np
from playwright.sync_api import expect

from .lab import Notebook

SETUP = """
import numpy as np, torch, nnwidgets as nw
rng = np.random.default_rng(0)
X = rng.normal(size=(500, 300))
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(300, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
names = [f"feature {i:03d}" for i in range(300)]
s = nw.Inspector(net, X, feature_names=names)
editor = nw.InputEditor(s)
editor
"""


def test_search_sort_and_virtual_list(page, lab, artifacts):
    nb = Notebook(page, lab, "wide.ipynb", [SETUP])
    nb.run(0)
    editor = page.locator(".nnw-editor")
    expect(editor.locator(".nnw-class-row").first).to_be_visible()
    sliders = editor.locator(".nnw-feature-slider")
    assert 0 < sliders.count() <= 40  # 300 features, only the rows in view
    assert sliders.first.get_attribute("data-index") == "0"

    # Scrolling brings later rows in (and drops the first ones).
    editor.locator(".nnw-features-viewport").evaluate("v => { v.scrollTop = 26 * 150; v.dispatchEvent(new Event('scroll')); }")
    expect(editor.locator(".nnw-feature-slider[data-index='150']")).to_be_attached()
    expect(editor.locator(".nnw-feature-slider[data-index='0']")).to_have_count(0)

    # Search: one match.
    editor.locator(".nnw-feature-search").fill("feature 217")
    expect(sliders).to_have_count(1)
    assert sliders.first.get_attribute("data-index") == "217"
    sliders.first.focus()
    page.keyboard.press("End")  # its largest value
    expect(editor).to_have_attribute("data-prediction-for", editor.get_attribute("data-values"))
    assert nb.python("[float(s.values[217]), float(X[:, 217].max())]")[0] == nb.python("float(X[:, 217].max())")

    # Order by the row's attributions: the first row is the feature with the largest |integrated gradients|.
    editor.locator(".nnw-feature-search").fill("")
    editor.locator(".nnw-feature-sort").select_option("attribution")
    top = nb.python(
        "from nnwidgets.core.tasks import Attribution\n"
        "a = s.compute(Attribution(tuple(s.values.tolist()), s.target_class, 'mean', 'logit', 50))\n"
        "int(np.argmax(np.abs(a.values[2])))"
    )
    expect(sliders.first).to_have_attribute("data-index", str(top))
    assert nb.python("editor.sort_by") == "attribution"
    editor.screenshot(path=f"{artifacts}/wide-editor.png")

    # Dragging the top feature re-ranks the features as it goes; the new order waits for the pointer to
    # let go, so the slider under it is never moved or dropped mid-drag.
    held = sliders.first.element_handle()
    box = held.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] - 2, y)
    page.mouse.down()
    for k in range(1, 5):  # to the middle of its range, near the baseline: it no longer ranks first
        page.mouse.move(box["x"] + box["width"] * (1 - k / 8), y, steps=2)
    expect(editor).to_have_attribute("data-order-held", "true")  # a new ranking came while held
    assert held.evaluate("e => e.isConnected") and held.get_attribute("data-index") == str(top)
    orderings = int(editor.get_attribute("data-orderings") or 0)
    page.mouse.up()
    # Let go, the list takes the waiting order around the edited slider: it keeps its place and its focus.
    page.wait_for_function("n => Number(document.querySelector('.nnw-editor').dataset.orderings) > n", arg=orderings)
    expect(editor).not_to_have_attribute("data-order-held", "true")
    dragged = editor.locator(f".nnw-feature-slider[data-index='{top}']")
    expect(dragged).to_be_focused()
    assert abs(dragged.bounding_box()["y"] - box["y"]) < 1
    ranked_first = "int(np.argmax(np.abs(s.compute(Attribution(tuple(s.values.tolist()), s.target_class, 'mean', 'logit', 50)).values[2])))"
    expect(editor).to_have_attribute("data-prediction-for", editor.get_attribute("data-values"))
    nb.python("editor.wait()\nTrue")
    now_first = nb.python(ranked_first)
    assert now_first != top
    editor.locator(".nnw-features-viewport").evaluate("v => { v.scrollTop = 0; }")
    expect(sliders.first).to_have_attribute("data-index", str(now_first))

    # From the keyboard: the focused slider keeps its focus (and stays in view) when the order changes.
    focused = editor.locator(f".nnw-feature-slider[data-index='{top}']")
    editor.locator(".nnw-features-viewport").evaluate("""async (v, index) => {  // scroll down to the feature
      v.scrollTop = 0;
      while (!v.querySelector(`.nnw-feature-slider[data-index='${index}']`) && v.scrollTop + v.clientHeight < v.scrollHeight) {
        v.scrollTop += v.clientHeight / 2;
        await new Promise((resolve) => requestAnimationFrame(resolve));
      }
    }""", top)
    focused.focus()
    orderings = int(editor.get_attribute("data-orderings"))
    page.keyboard.press("End")  # back to where it ranked first
    page.wait_for_function("n => Number(document.querySelector('.nnw-editor').dataset.orderings) > n", arg=orderings)
    expect(sliders.first).to_have_attribute("data-index", str(top))
    expect(focused).to_be_focused()
    expect(focused).to_be_in_viewport()
