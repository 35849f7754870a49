import numpy as np
import pytest
import torch
from torch import nn

from nnwidgets.core import heatmap, pool_signed_extreme, weight_matrix
from nnwidgets.core.weight_matrix import block_shape, clip_region


def naive_pool(matrix, br, bc):
    rows, cols = matrix.shape
    out = np.empty((-(-rows // br), -(-cols // bc)), matrix.dtype)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            block = matrix[i * br:(i + 1) * br, j * bc:(j + 1) * bc]
            out[i, j] = block.flat[np.argmax(np.abs(block))]
    return out


@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (100, 3), (3, 1000), (257, 255), (1, 5000)])
@pytest.mark.parametrize("max_cells", [1, 10, 400, 1_000_000])
def test_pooling_keeps_each_blocks_signed_extreme(shape, max_cells):
    rng = np.random.default_rng(sum(shape) + max_cells)
    matrix = rng.normal(size=shape).astype(np.float32)
    pooled = pool_signed_extreme(matrix, max_cells)
    assert pooled.values.size <= max_cells
    assert np.array_equal(pooled.values, naive_pool(matrix, pooled.block_rows, pooled.block_cols))
    assert (pooled.min, pooled.max) == (matrix.min(), matrix.max())


def test_pooling_all_negative_block_with_edge_padding():
    matrix = -np.arange(1, 16, dtype=np.float32).reshape(3, 5)
    pooled = pool_signed_extreme(matrix, 4)
    assert np.array_equal(pooled.values, naive_pool(matrix, pooled.block_rows, pooled.block_cols))
    assert pooled.max == -1.0


@pytest.mark.parametrize(("rows", "cols", "max_cells"), [(8192, 8192, 65536), (1, 10**8, 65536), (10**6, 3, 1000), (5, 5, 1)])
def test_block_shape_respects_the_budget(rows, cols, max_cells):
    br, bc = block_shape(rows, cols, max_cells)
    assert -(-rows // br) * -(-cols // bc) <= max_cells
    with pytest.raises(ValueError):
        block_shape(rows, cols, 0)


@pytest.mark.parametrize(
    ("module", "param", "shape", "labels"),
    [
        (nn.Linear(5, 3), "weight", (3, 5), ("output unit", "input feature")),
        (nn.Linear(5, 3), "bias", (1, 3), ("", "index")),
        (nn.Conv2d(2, 4, 3), "weight", (4, 18), ("output channel", "input channel × kernel position")),
        (nn.Embedding(10, 6), "weight", (10, 6), ("token", "embedding dim")),
        (nn.LSTM(3, 5), "weight_ih_l0", (20, 3), ("gate·hidden unit (i,f,g,o)", "input")),
        (nn.LSTM(3, 5), "weight_hh_l0", (20, 5), ("gate·hidden unit (i,f,g,o)", "hidden unit")),
    ],
)
def test_weight_as_matrix(module, param, shape, labels):
    view = weight_matrix(module, param)
    assert view.values.shape == shape and (view.row_label, view.col_label) == labels
    assert np.array_equal(view.values.ravel(), module.get_parameter(param).detach().numpy().ravel())


def test_conv_transpose_is_put_output_first():
    conv = nn.ConvTranspose2d(3, 5, 2)
    view = weight_matrix(conv, "weight")
    assert view.values.shape == (5, 12)
    assert view.values[4, 0] == conv.weight[0, 4, 0, 0].item()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_low_and_high_precision_weights(dtype):
    layer = nn.Linear(4, 2).to(dtype)
    view = weight_matrix(layer, "weight")
    assert view.values.dtype == (np.float64 if dtype == torch.float64 else np.float32)
    assert np.array_equal(view.values, layer.weight.detach().double().numpy().astype(view.values.dtype))


def test_meta_weights_explain_themselves():
    with torch.device("meta"):
        layer = nn.Linear(3, 3)
    with pytest.raises(ValueError, match="'meta' device"):
        weight_matrix(layer, "weight")


def test_heatmap_zoom_is_exact_at_full_resolution():
    torch.manual_seed(1)
    layer = nn.Linear(500, 300)
    whole = heatmap(layer, "weight", max_cells=1000)
    assert not whole.full_resolution and whole.values.size <= 1000
    assert (whole.min, whole.max) == (layer.weight.min().item(), layer.weight.max().item())
    zoom = heatmap(layer, "weight", region=(10, 20, 100, 130), max_cells=1000)
    assert zoom.full_resolution and zoom.region == (10, 20, 100, 130)
    assert np.array_equal(zoom.values, layer.weight.detach().numpy()[10:20, 100:130])


def test_hundred_million_weights_keep_their_extremes():
    big = nn.Linear(10_000, 10_000, bias=False)
    with torch.no_grad():
        big.weight.zero_()
        big.weight[1234, 5678] = -7.0
        big.weight[9999, 0] = 3.0
    heat = heatmap(big, "weight")
    assert heat.values.size <= 65_536 and heat.values.nbytes <= 512 * 1024
    assert (heat.min, heat.max) == (-7.0, 3.0)
    assert (heat.values == -7.0).sum() == 1 and (heat.values == 3.0).sum() == 1


def test_one_element_layer():
    heat = heatmap(nn.Linear(1, 1, bias=False), "weight")
    assert heat.values.shape == (1, 1) and heat.full_resolution


def test_clip_region():
    assert clip_region((10, 20), None) == (0, 10, 0, 20)
    assert clip_region((10, 20), (-5, 50, 3, 3)) == (0, 10, 3, 4)
    assert clip_region((10, 20), (12, 14, 0, 1)) == (9, 10, 0, 1)
