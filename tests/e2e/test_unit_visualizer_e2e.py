"""UnitVisualizer in JupyterLab on a digits CNN: the first ascent runs on construction and the page draws the
picture and the activation curve with the mean over real pictures and the ratio; a unit typed in the page and
sent with "run" is read back in Python with its result."""

from .lab import Notebook

SETUP = """
import torch, nnwidgets as nw
from sklearn.datasets import load_digits
digits = load_digits()
images = digits.images[:400, None] / 16.0
torch.manual_seed(0)
cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                          torch.nn.Flatten(), torch.nn.Linear(128, 10))
optimizer = torch.optim.Adam(cnn.parameters(), lr=0.02)
x, y = torch.tensor(images, dtype=torch.float32), torch.tensor(digits.target[:400])
for _ in range(30):
    optimizer.zero_grad(); torch.nn.functional.cross_entropy(cnn(x), y).backward(); optimizer.step()
s = nw.Inspector(cnn, images, class_names=[str(d) for d in range(10)])
uv = nw.UnitVisualizer(s, layer="1", unit=1, steps=64)
uv
"""

DONE = ("u => { const r = document.querySelector('.nnw-unit-visualizer'); "
        "return r && r.dataset.state === 'done' && r.dataset.resultUnit === u && Number(r.dataset.runs) > 0; }")

# Distinct colours on the picture's canvas: a drawn picture has more than one.
COLOURS = ("() => { const c = document.querySelector('.nnw-uv-picture'); const d = c.getContext('2d')"
           ".getImageData(0, 0, c.width, c.height).data; const seen = new Set(); "
           "for (let i = 0; i < d.length; i += 4) seen.add(d[i] * 65536 + d[i + 1] * 256 + d[i + 2]); return seen.size; }")


def test_ascent_is_drawn_and_a_unit_set_in_the_page_reaches_python(page, lab, artifacts):
    nb = Notebook(page, lab, "unit_visualizer.ipynb", [SETUP])
    nb.run(0)
    page.wait_for_function(DONE, arg="1", timeout=60_000)
    root = page.locator(".nnw-unit-visualizer")
    assert root.get_attribute("data-layer") == "1" and root.get_attribute("data-steps") == "64"
    canvas = page.locator(".nnw-uv-picture")
    assert canvas.get_attribute("width") == "192" and canvas.get_attribute("height") == "192"  # 8 × 8 at 24 px a pixel
    assert page.evaluate(COLOURS) > 1
    path = page.locator(".nnw-uv-line").get_attribute("d")
    assert path.count("L") == 63  # one point per step
    assert page.locator(".nnw-uv-mean").count() == 1
    assert page.locator(".nnw-uv-axis text").count() >= 6  # tick labels on both axes and the axis names
    ratio = page.locator(".nnw-uv-ratio").inner_text()
    assert "the mean over 256 real images" in ratio or "no ratio" in ratio
    expected = nb.python("r = uv.result\n[r.ratio is not None, r.target_description]")
    assert ("×" in ratio) == expected[0]
    assert expected[1] in page.locator(".nnw-uv-caption").inner_text()
    assert page.locator(".nnw-uv-layer option").count() == 6  # output, conv, ReLU, pooling, Flatten, Linear

    page.locator(".nnw-uv-unit").fill("3")
    page.locator(".nnw-uv-run").click()
    page.wait_for_function(DONE, arg="3", timeout=60_000)
    assert nb.python("[uv.unit, uv.result.unit, uv.result.layer, len(uv.result.activations)]") == [3, 3, "1", 64]
    final = float(root.get_attribute("data-final"))
    assert abs(final - nb.python("uv.result.final")) <= 1e-6 * max(1.0, abs(final))

    page.locator(".nnw-uv-layer").select_option("")  # the output: class logits; unit 3 stays (10 classes)
    page.locator(".nnw-uv-run").click()
    page.wait_for_function(
        "() => { const r = document.querySelector('.nnw-unit-visualizer'); "
        "return r.dataset.state === 'done' && r.dataset.resultLayer === ''; }", timeout=60_000)
    assert nb.python("[uv.layer, uv.result.target_description]") == ["", "class 3: its logit"]
    page.locator(".nnw-unit-visualizer").screenshot(path=f"{artifacts}/unit_visualizer.png")
