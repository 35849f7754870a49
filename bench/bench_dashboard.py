"""Dashboard benchmark: one full update after a slider move, in Python (split per view) and in
Chromium (prediction, activations and gradients drawn), on notebook 03's digits model.
Run: `.venv/bin/python bench/bench_dashboard.py [--skip-browser]`."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnwidgets as nw  # noqa: E402

MODEL = """
import torch
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 16), torch.nn.Tanh(),
                            torch.nn.Linear(16, 10))
"""


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def bench_python(moves: int = 20) -> None:
    print(f"(a) Python: one slider move on a Dashboard, time until each view has its result ({moves} moves, digits 1797x64)")
    scope: dict = {}
    exec(MODEL, scope)
    X = load_digits().data / 16
    s = nw.Inspector(scope["model"], X)
    dash = nw.Dashboard(s).wait()
    views = {
        "prediction": dash.editor, "activations": dash.activations, "attributions": dash.attributions,
        "ICE lines": dash.importance, "GAM row terms": dash.gam, "surrogate rows": dash.surrogates, "LIME": dash.lime,
    }
    ready = {name: [] for name in views}
    returns = []
    rng = np.random.default_rng(0)
    for _ in range(moves):
        t0 = time.perf_counter()
        s.values = X[rng.integers(len(X))]
        returns.append(time.perf_counter() - t0)
        for name, view in views.items():  # in the order the scheduler runs them
            view.wait()
            ready[name].append(time.perf_counter() - t0)
    print(f"    s.values = ... returns to the kernel in {statistics.median(returns) * 1e3:.1f} ms p50; then, off the kernel's thread:")
    for name, times in ready.items():
        print(f"    {name:<15} ready after {statistics.median(times) * 1e3:6.1f} ms p50")


MOVE_JS = """
async (fraction) => {
  const editor = document.querySelector('.nnw-editor');
  const views = ['.nnw-activations', '.nnw-attributions'].map((s) => document.querySelector(s));
  const slider = [...editor.querySelectorAll('.nnw-feature-slider')][20];
  const min = Number(slider.min), max = Number(slider.max), step = Number(slider.step);
  const t0 = performance.now();
  slider.value = String(min + Math.round(((max - min) * fraction) / step) * step);
  slider.dispatchEvent(new Event('input', { bubbles: true }));
  await new Promise((r) => setTimeout(r, 0));
  const key = editor.dataset.values;
  const waitFor = (node, attr) => new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error('timeout')), 20000);
    const done = () => node.dataset[attr] === key;
    if (done()) return resolve(performance.now());
    const obs = new MutationObserver(() => { if (done()) { obs.disconnect(); resolve(performance.now()); } });
    obs.observe(node, { attributes: true });
  });
  const times = await Promise.all([waitFor(editor, 'predictionFor'), ...views.map((v) => waitFor(v, 'forValues'))]);
  return times.map((t) => t - t0);
}
"""

SETUP = MODEL + """
import nnwidgets as nw
from sklearn.datasets import load_digits
s = nw.Inspector(model, load_digits().data / 16)
dash = nw.Dashboard(s)
dash
"""


def bench_browser(moves: int = 20) -> None:
    print(f"(b) Chromium + JupyterLab: slider move -> prediction, activations and gradients drawn ({moves} moves)")
    from tests.e2e.lab import notebook_in_chromium

    with notebook_in_chromium([SETUP], viewport={"width": 1500, "height": 1200}) as (page, nb):
        nb.run(0)
        page.get_by_role("tab", name="Explain").click()  # tabs are drawn when first shown
        page.wait_for_function("() => document.querySelector('.nnw-lime')?.dataset.busy === 'false'")
        page.get_by_role("tab", name="Attributions").click()
        page.locator(".nnw-attributions .nnw-attr-method").first.wait_for()
        page.get_by_role("tab", name="Inside").click()
        page.locator(".nnw-activations .nnw-act-layer").first.wait_for()
        page.evaluate(MOVE_JS, 0.5)
        results = []
        for f in np.random.default_rng(1).uniform(0.05, 0.95, moves):
            page.wait_for_timeout(150)
            results.append(page.evaluate(MOVE_JS, float(f)))
    for i, name in enumerate(["prediction", "activations", "attributions"]):
        print(f"    {name:<13} p50 {statistics.median(r[i] for r in results):.0f} ms")
    everything = statistics.median(max(r) for r in results)
    print(f"    all three drawn p50 {everything:.0f} ms  (target <= 100 ms: {verdict(everything <= 100)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-browser", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    bench_python()
    if not args.skip_browser:
        bench_browser()


if __name__ == "__main__":
    main()
