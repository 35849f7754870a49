"""The views follow JupyterLab's theme through --jp-* variables: dark theme, dark widgets."""

from .lab import Notebook

SETUP = """
import torch, nnwidgets as nw
nw.ModelExplorer(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU()))
"""

LUMINANCE = """
(selector) => {
  const style = getComputedStyle(document.querySelector(selector));
  const rgb = (c) => c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
  return [lum(rgb(style.backgroundColor)), lum(rgb(style.color))];
}
"""


def choose_theme(page, name):
    page.evaluate("(theme) => window.jupyterapp.commands.execute('apputils:change-theme', { theme })", name)


def test_dark_theme_reaches_the_views(page, lab):
    nb = Notebook(page, lab, "theme.ipynb", [SETUP])
    nb.run(0)
    page.locator(".nnw-bars .nnw-bar-row").first.wait_for()
    light_bg, light_fg = page.evaluate(LUMINANCE, ".nnw-bars")
    assert light_bg > 0.8 and light_fg < 0.3
    choose_theme(page, "JupyterLab Dark")
    try:
        page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
        page.wait_for_function(f"() => ({LUMINANCE})('.nnw-bars')[0] < 0.3")
        for selector in (".nnw-bars", ".nnw-heatmap"):
            bg, fg = page.evaluate(LUMINANCE, selector)
            assert bg < 0.3 and fg > 0.6, selector
    finally:
        choose_theme(page, "JupyterLab Light")
        page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'")
