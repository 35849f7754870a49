"""Foundation benchmark: layer table, heatmap payload, click-to-heatmap latency in Chromium.

Run: `make bench` (or `.venv/bin/python bench/bench_foundation.py [--skip-browser]`).
Prints each figure beside its target and, where there is one, a baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nnwidgets.core import auto_depth, encode_array, heatmap, layer_table  # noqa: E402

warnings.filterwarnings("ignore", message="enable_nested_tensor")


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def timed(fn, repeats: int) -> tuple[float, list[float]]:
    times = []
    result = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return result, times


def bench_layer_table() -> None:
    print("(a) layer table of torch.nn.Transformer(d_model=1024, nhead=16, 12+12 layers)")
    model = torch.nn.Transformer(d_model=1024, nhead=16, num_encoder_layers=12, num_decoder_layers=12)
    params = sum(p.numel() for p in model.parameters())
    rss0 = rss_bytes()
    tracemalloc.start()
    t0 = time.perf_counter()
    rows = layer_table(model, auto_depth(model))
    first = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    growth = rss_bytes() - rss0
    _, times = timed(lambda: layer_table(model, auto_depth(model)), 20)
    median = statistics.median(times)
    print(f"    {params:,} parameters -> {len(rows)} bars at depth {auto_depth(model)}")
    print(f"    time: first call {first * 1e3:.1f} ms, median of 20 {median * 1e3:.1f} ms  (target <= 50 ms: {verdict(median <= 0.05)})")
    print(f"    memory: process RSS growth {growth / 2**20:.2f} MiB, Python peak {peak / 2**20:.2f} MiB  "
          f"(target <= 5 MB: {verdict(max(growth, peak) <= 5e6)})")


def bench_heatmap_payload() -> None:
    print("(b) heatmap of an 8192x8192 weight vs matplotlib imshow + PNG of the same matrix")
    from matplotlib.figure import Figure

    torch.manual_seed(0)
    layer = torch.nn.Linear(8192, 8192, bias=False)

    def prepare():
        heat = heatmap(layer, "weight")
        return heat, encode_array(heat.values)

    (heat, payload), ours = timed(prepare, 5)
    matrix = layer.weight.detach().numpy()

    def matplotlib_png():
        fig = Figure(figsize=(6.4, 4.8))
        fig.add_subplot().imshow(matrix, cmap="RdBu_r", vmin=-abs(matrix).max(), vmax=abs(matrix).max())
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()

    png, theirs = timed(matplotlib_png, 2)
    size = len(payload["buffer"])
    ours_ms, theirs_ms = statistics.median(ours) * 1e3, statistics.median(theirs) * 1e3
    print(f"    nnwidgets: {size / 1024:.0f} KiB payload ({heat.values.shape[0]}x{heat.values.shape[1]} cells of "
          f"{heat.block_rows}x{heat.block_cols} blocks), {ours_ms:.1f} ms median of 5  (target <= 512 KiB: {verdict(size <= 512 * 1024)})")
    print(f"    matplotlib imshow + PNG: {len(png) / 1024:.0f} KiB, {theirs_ms:.0f} ms median of 2")
    ratio = theirs_ms / ours_ms
    print(f"    ratio: {ratio:.0f}x faster than matplotlib  (target >= 40x: {verdict(ratio >= 40)})")


CLICK_JS = """
async (name) => {
  const heat = document.querySelector('.nnw-heatmap');
  const before = Number(heat.dataset.renderCount);
  const t0 = performance.now();
  document.querySelector(`.nnw-bar-row[data-name="${name}"]`).click();
  await new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error(`no redraw for ${name}`)), 10000);
    const done = () => heat.dataset.layer === name && Number(heat.dataset.renderCount) > before;
    const observer = new MutationObserver(() => { if (done()) { observer.disconnect(); resolve(); } });
    observer.observe(heat, { attributes: true });
  });
  return Number(heat.dataset.drawnAt) - t0;
}
"""

BROWSER_SETUP = """
import torch, nnwidgets as nw
torch.manual_seed(0)
layers = []
for _ in range(4):
    layers += [torch.nn.Linear(1024, 1024), torch.nn.ReLU()]
model = torch.nn.Sequential(*layers)
explorer = nw.ModelExplorer(model)
explorer
"""


def bench_click_to_heatmap(clicks: int = 24) -> None:
    print(f"(c) Chromium + JupyterLab: click a bar -> new heatmap drawn (1024x1024 weights, {clicks} clicks)")
    from tests.e2e.lab import notebook_in_chromium

    with notebook_in_chromium([BROWSER_SETUP]) as (page, nb):
        nb.run(0)
        page.locator(".nnw-heatmap[data-layer='0'] canvas.nnw-heat-canvas").wait_for(timeout=60_000)
        names = ["4", "6", "0", "2"]  # each click selects a layer other than the current one
        page.evaluate(CLICK_JS, "2")  # warm-up
        times = [page.evaluate(CLICK_JS, names[i % 4]) for i in range(clicks)]
    p50 = statistics.median(times)
    print(f"    median {p50:.0f} ms, min {min(times):.0f} ms, max {max(times):.0f} ms  (target <= 250 ms: {verdict(p50 <= 250)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-browser", action="store_true", help="skip (c), which needs Chromium")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, numpy {np.__version__}, {torch.get_num_threads()} threads")
    bench_layer_table()
    bench_heatmap_payload()
    if not args.skip_browser:
        bench_click_to_heatmap()


if __name__ == "__main__":
    main()
