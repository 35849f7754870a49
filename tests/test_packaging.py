"""The wheel ships the built front end, so installing it needs no Node.js."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parent.parent
VIEWS = ["layer_bars", "weight_heatmap", "input_editor", "lime_explainer", "gam_explainer", "attributions", "activations", "weight_distributions", "weight_tiles", "activation_analysis", "importance", "surrogates"]
BUNDLE = [f"{view}.{ext}" for view in VIEWS for ext in ("js", "css")]


def test_wheel_contains_the_bundle(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path)],
        cwd=ROOT, check=True, capture_output=True,
    )
    (wheel,) = tmp_path.glob("nnwidgets-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for name in BUNDLE:
            assert f"nnwidgets/static/{name}" in names
            assert z.read(f"nnwidgets/static/{name}") == (ROOT / "nnwidgets" / "static" / name).read_bytes()
        assert "export" in z.read("nnwidgets/static/layer_bars.js").decode()


def test_widgets_load_the_bundle_not_the_stand_in():
    import nnwidgets as nw

    for cls in (nw.LayerBars, nw.WeightHeatmap, nw.InputEditor, nw.LimeExplainer, nw.GamExplainer, nw.Attributions, nw.Activations, nw.WeightDistributions, nw.WeightTiles, nw.ActivationAnalysis, nw.Importance, nw.Surrogates):
        assert "front-end bundle is missing" not in str(cls._esm)
