import pytest
import torch
from torch import nn

from nnwidgets.core import auto_depth, layer_table, max_depth, resolve_layer


def test_mlp_rows_sizes_and_counts(mlp):
    rows = layer_table(mlp)
    assert [(r.name, r.type, r.in_size, r.out_size, r.params, r.weight_shape) for r in rows] == [
        ("0", "Linear", 4, 8, 40, (8, 4)),
        ("1", "ReLU", 8, 8, 0, None),
        ("2", "Linear", 8, 3, 27, (3, 8)),
    ]
    assert [r.has_weights for r in rows] == [True, False, True]


@pytest.mark.parametrize(
    ("module", "in_size", "out_size", "weight_shape"),
    [
        (nn.Conv2d(3, 16, 5), 3, 16, (16, 3, 5, 5)),
        (nn.ConvTranspose1d(4, 2, 3), 4, 2, (4, 2, 3)),
        (nn.Embedding(100, 12), 100, 12, (100, 12)),
        (nn.LayerNorm([4, 5]), 20, 20, (4, 5)),
        (nn.BatchNorm2d(7), 7, 7, (7,)),
        (nn.LSTM(10, 20, bidirectional=True), 10, 40, (80, 10)),
        (nn.GRU(6, 9), 6, 9, (27, 6)),
        (nn.MultiheadAttention(16, 4), 16, 16, (48, 16)),
    ],
)
def test_sizes_by_module_type(module, in_size, out_size, weight_shape):
    row = layer_table(module)[0]
    assert (row.in_size, row.out_size, row.weight_shape) == (in_size, out_size, weight_shape)
    assert row.params == sum(p.numel() for p in module.parameters(recurse=False))


def test_multihead_attention_keeps_its_own_and_child_parameters():
    rows = layer_table(nn.MultiheadAttention(16, 4))
    assert [r.name for r in rows] == ["", "out_proj"]
    assert sum(r.params for r in rows) == sum(p.numel() for p in nn.MultiheadAttention(16, 4).parameters())


def test_transformer_folds_to_a_few_dozen_bars():
    model = nn.Transformer(d_model=32, nhead=4, num_encoder_layers=12, num_decoder_layers=12, dim_feedforward=64)
    full = layer_table(model)
    depth = auto_depth(model)
    folded = layer_table(model, depth)
    assert len(full) > 200 and 10 <= len(folded) <= 40
    assert sum(r.params for r in folded) == sum(p.numel() for p in model.parameters())
    assert folded[0].name == "encoder.layers.0" and folded[0].type == "TransformerEncoderLayer"
    assert folded[0].out_size == 32 and folded[0].weight_shape == (96, 32)


def test_folding_at_every_depth_keeps_the_parameter_total():
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Linear(3, 3), nn.Tanh())), nn.Linear(3, 1))
    total = sum(p.numel() for p in model.parameters())
    assert max_depth(model) == 3
    for depth in (1, 2, 3):
        assert sum(r.params for r in layer_table(model, depth)) == total
    assert [r.name for r in layer_table(model, 1)] == ["0", "1"]
    with pytest.raises(ValueError, match="depth must be at least 1"):
        layer_table(model, 0)


def test_small_model_needs_no_folding(mlp):
    assert auto_depth(mlp) is None


def test_empty_and_buffer_only_models():
    assert [(r.name, r.type, r.params) for r in layer_table(nn.Sequential())] == [("", "Sequential", 0)]
    bn = nn.BatchNorm1d(4, affine=False)
    (row,) = layer_table(bn)
    assert (row.params, row.has_weights, row.out_size) == (0, False, 4)


def test_meta_parameters_are_counted_without_values():
    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(1000, 1000), nn.ReLU())
    assert layer_table(model)[0].params == 1_001_000


def test_resolve_layer_suggests_close_names(mlp):
    assert resolve_layer(mlp, "2") is mlp[2]
    nested = nn.ModuleDict({"encoder": nn.Sequential(nn.Linear(2, 2))})
    with pytest.raises(ValueError, match=r"no layer named 'encodr\.0'.*did you mean 'encoder\.0'"):
        resolve_layer(nested, "encodr.0")
    with pytest.raises(TypeError, match="layer must be a str"):
        resolve_layer(mlp, 2)


def unique_parameter_count(model: nn.Module) -> int:
    """Counted another way: distinct parameter storages, each once."""
    seen = {}
    for _, p in model.named_parameters(remove_duplicate=False):
        if not isinstance(p, nn.parameter.UninitializedParameter):
            seen[p.data_ptr() if not p.is_meta else id(p)] = p.numel()
    return sum(seen.values())


class Block(nn.Module):
    """A block that owns a parameter itself (a positional embedding) besides its children's."""

    def __init__(self):
        super().__init__()
        self.pos_emb = nn.Parameter(torch.zeros(7, 8))
        self.attn = nn.MultiheadAttention(8, 2)
        self.mlp = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 8))


@pytest.mark.parametrize("make", [
    lambda: nn.Transformer(d_model=16, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=32),
    lambda: nn.Sequential(Block(), Block()),
    lambda: nn.Sequential(nn.MultiheadAttention(8, 2)),
])
def test_every_depth_counts_every_parameter_once(make):
    torch.manual_seed(0)
    model = make()
    total = unique_parameter_count(model)
    assert sum(r.params for r in layer_table(model)) == total
    for depth in range(1, max_depth(model) + 1):
        assert sum(r.params for r in layer_table(model, depth)) == total, depth


def test_tied_weights_are_counted_once_and_marked_shared():
    emb = nn.Embedding(100, 8)
    head = nn.Linear(8, 100, bias=False)
    head.weight = emb.weight
    model = nn.Sequential(emb, nn.ReLU(), head)
    rows = layer_table(model)
    assert sum(r.params for r in rows) == 800 == unique_parameter_count(model)
    assert (rows[2].params, rows[2].shared, rows[2].has_weights) == (0, 800, True)


def test_lazy_modules_are_listed_not_crashed_on():
    model = nn.Sequential(nn.LazyLinear(3), nn.ReLU(), nn.Linear(3, 2))
    rows = layer_table(model)
    assert rows[0].lazy and rows[0].has_weights and rows[0].weight_shape is None and rows[0].params == 0
    assert rows[2].params == 8
    import nnwidgets as nw

    bars = nw.LayerBars(model)
    assert bars.table["names"] == ["0", "1", "2"]
    heat = nw.WeightHeatmap(model, layer="0")
    assert "lazy module" in heat.message


def test_a_folded_group_holding_only_tied_weights_still_has_weights():
    emb = nn.Embedding(10, 4)
    head = nn.Sequential(nn.Linear(4, 10, bias=False))
    head[0].weight = emb.weight
    model = nn.Sequential()
    model.add_module("emb", emb)
    model.add_module("head", head)
    rows = {r.name: r for r in layer_table(model, 1)}
    assert rows["head"].params == 0 and rows["head"].shared == 40 and rows["head"].has_weights
