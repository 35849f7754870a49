"""Models on a GPU and on several devices. The `gpu` tests need CUDA and skip without it; the rest
use the meta device to stand for weights that live elsewhere (offloaded), and run everywhere."""

import numpy as np
import pytest
import torch
from torch import nn

import nnwidgets as nw
from nnwidgets.core.lime_explain import LimeOptions
from nnwidgets.core.tasks import Attribution, Lime, OverData, RowPass
from planted import data

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def mlp(device="cpu", dtype=torch.float32):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 3)).to(device=device, dtype=dtype)


@pytest.mark.gpu
@cuda
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_every_view_works_with_the_model_on_cuda(dtype):
    X = data()
    gpu, cpu = mlp("cuda", dtype), mlp("cpu", torch.float32)
    s = nw.Inspector(gpu, X)
    dash = nw.Dashboard(s).wait()
    assert all(view.error == "" for view in dash.views), [view.error for view in dash.views]
    with torch.no_grad():
        own = torch.softmax(gpu(torch.tensor(X[:3], dtype=dtype, device="cuda")).float(), 1).cpu().numpy()
    assert np.allclose(s.predict(X[:3]), own, atol=1e-6)
    assert all(p.device.type == "cuda" for p in gpu.parameters())  # the model stays where it was
    if dtype == torch.float32:  # the same numbers as on the CPU
        reference = nw.Inspector(cpu, X)
        a = s.compute(Attribution(tuple(X[0]), 1, "mean", "logit", 20))
        b = reference.compute(Attribution(tuple(X[0]), 1, "mean", "logit", 20))
        assert np.allclose(a.values, b.values, atol=1e-4)
        assert s.compute(Lime(tuple(X[0]), 1, LimeOptions(num_samples=300))).conditions == reference.compute(
            Lime(tuple(X[0]), 1, LimeOptions(num_samples=300))).conditions


@pytest.mark.gpu
@cuda
def test_heatmap_of_a_cuda_weight_reads_the_region_on_the_gpu():
    layer = nn.Linear(4096, 4096).cuda()
    heat = nw.WeightHeatmap(layer, layer="", region=[0, 8, 0, 8])
    assert heat.message == "" and heat.heatmap["block_rows"] == 1
    assert np.allclose(heat._heat.values, layer.weight[:8, :8].detach().cpu().numpy())


def test_partly_offloaded_model_gives_per_layer_messages_not_a_crash():
    model = mlp()
    model[2].to("meta")  # the last layer's weights live elsewhere (offloaded): shapes, no values
    X = data()
    s = nw.Inspector(model, X)
    assert "2.weight" in s.problem and "meta" in s.problem
    dash = nw.Dashboard(s).wait()
    assert dash.bars.table["names"] == ["0", "1", "2"]
    s.selected_layer = "0"
    assert dash.heatmap.message == "" and dash.heatmap.heatmap["shape"] == [16, 5]  # a layer with values
    s.selected_layer = "2"
    assert "meta" in dash.heatmap.message  # the offloaded one says so
    assert "meta" in dash.distributions.message and len(dash.distributions.found) == 1
    for view in (dash.editor, dash.lime, dash.activations, dash.attributions):
        assert "2.weight" in view.error and "meta" in view.error
    with pytest.raises(ValueError, match="2.weight is on the 'meta' device"):
        s.compute(RowPass(tuple(X[0])))
    model[2].to_empty(device="cpu")
    model[2].load_state_dict(mlp()[2].state_dict())  # the offloaded weights are loaded
    s.refresh()
    assert s.problem == "" and dash.editor.wait().error == ""
    assert np.allclose(dash.editor.prediction_values, s.predict(X[s.row][None])[0])
    with torch.no_grad():
        assert np.allclose(s.predict(X[:4]), torch.softmax(mlp()(torch.tensor(X[:4], dtype=torch.float32)), 1).numpy(), atol=1e-6)


def test_a_model_whose_forward_moves_between_devices_is_run_from_its_first_device():
    class TwoPart(nn.Module):
        """A pipeline-style model: each part moves its input to its own device."""

        def __init__(self):
            super().__init__()
            self.first, self.second = nn.Linear(5, 8), nn.Linear(8, 2)

        def forward(self, x):
            h = torch.relu(self.first(x.to(self.first.weight.device)))
            return self.second(h.to(self.second.weight.device))

    model = TwoPart()
    s = nw.Inspector(model, data())
    assert s.compute(OverData()).predictions.shape == (400, 2)


def test_chunks_shrink_when_the_device_runs_out_of_memory():
    calls = []

    class Tight(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(5, 2)

        def forward(self, x):
            calls.append(len(x))
            if len(x) > 1000:
                raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
            return self.layer(x)

    s = nw.Inspector(Tight(), data(rows=5000))
    calls.clear()
    out = s.predict(data(rows=5000))
    assert out.shape == (5000, 2) and max(calls[-5:]) <= 1000
    assert s.predictor.max_batch <= 1000  # later passes start small enough


def test_integrated_gradient_steps_shrink_to_fit_and_give_the_same_attributions():
    class Tight(nn.Module):
        """Runs out of (simulated) device memory on more than 8 rows at once."""

        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            if len(x) > 8:
                raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
            return self.inner(x)

    X = data()
    roomy = nw.Inspector(mlp(), X)
    tight = nw.Inspector(Tight(mlp()), X)  # the same weights (seeded), behind the limit
    tight.predictor.max_batch = 64
    task = Attribution(tuple(X[3]), 1, "mean", "logit", 50)
    expected, got = roomy.compute(task), tight.compute(task)
    assert np.allclose(got.values, expected.values, atol=1e-6) and abs(got.delta - expected.delta) < 1e-6
    assert tight.predictor.max_batch <= 8
