"""The table of a model's layers: names, types, sizes and parameter counts, foldable by depth."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace

from torch import nn

from .model_version import is_lazy

ROOT_NAME = ""


@dataclass(frozen=True)
class Layer:
    """One row of the layer table.

    ``name`` is the qualified module name (``""`` for the model itself); ``in_size``/``out_size`` are
    the feature sizes where the module type tells them (else ``None``); ``params`` counts the
    parameters the row owns (for a folded row: everything inside it), each parameter counted once
    however many modules share it (tied weights belong to the first); ``weight_shape`` is the shape
    of the parameter a heatmap shows first, or ``None`` for a layer without weights; ``lazy`` marks a
    lazy module (``nn.LazyLinear``) whose weights do not exist yet; ``shared`` counts parameters the
    module holds but an earlier row already counted (tied weights).
    """

    name: str
    type: str
    in_size: int | None
    out_size: int | None
    params: int
    weight_shape: tuple[int, ...] | None
    depth: int
    lazy: bool = False
    shared: int = 0

    @property
    def has_weights(self) -> bool:
        return self.params > 0 or self.shared > 0 or self.lazy


def _sizes(module: nn.Module) -> tuple[int | None, int | None]:
    """Input and output feature sizes as the module's own attributes state them."""
    if isinstance(module, nn.MultiheadAttention):
        return module.embed_dim, module.embed_dim
    if isinstance(module, nn.RNNBase):
        directions = 2 if module.bidirectional else 1
        out = module.proj_size if getattr(module, "proj_size", 0) else module.hidden_size
        return module.input_size, out * directions
    if isinstance(module, nn.Embedding | nn.EmbeddingBag):
        return module.num_embeddings, module.embedding_dim
    if isinstance(module, nn.LayerNorm | nn.RMSNorm):
        n = 1
        for d in module.normalized_shape:
            n *= d
        return n, n
    if isinstance(module, nn.GroupNorm):
        return module.num_channels, module.num_channels
    pairs = (("in_features", "out_features"), ("in_channels", "out_channels"))
    for a, b in pairs:
        if hasattr(module, a) and hasattr(module, b):
            return getattr(module, a), getattr(module, b)
    if hasattr(module, "num_features"):  # BatchNorm*, InstanceNorm*
        return module.num_features, module.num_features
    return None, None


def main_weight_name(module: nn.Module) -> str | None:
    """The parameter a heatmap shows first: ``weight`` if present, else the first matrix, else any."""
    named = list(module.named_parameters())
    if not named:
        return None
    for preferred in ("weight", "in_proj_weight", "weight_ih_l0"):
        if any(n == preferred for n, _ in named):
            return preferred
    for n, p in named:
        if p.dim() >= 2:
            return n
    return named[0][0]


def _row(name: str, module: nn.Module, params: int, shared: int = 0) -> Layer:
    in_size, out_size = _sizes(module)
    weight = main_weight_name(module)
    tensor = module.get_parameter(weight) if weight else None
    lazy = any(is_lazy(p) for p in module.parameters())
    shape = tuple(tensor.shape) if tensor is not None and not is_lazy(tensor) else None
    depth = 0 if name == ROOT_NAME else name.count(".") + 1
    return Layer(name, type(module).__name__, in_size, out_size, params, shape, depth, lazy, shared)


def _numel(p: nn.Parameter) -> int:
    return 0 if is_lazy(p) else p.numel()


def max_depth(model: nn.Module) -> int:
    """How deeply the model's modules nest (0 for a model without submodules)."""
    return max((n.count(".") + 1 for n, _ in model.named_modules() if n), default=0)


def layer_table(model: nn.Module, depth: int | None = None) -> list[Layer]:
    """Rows for every module that owns parameters and every leaf module (activations included).

    With ``depth``, modules nested deeper are folded into their ancestor at that depth, whose row
    then counts all parameters inside it. Sizes unknown from a module's attributes (activations,
    dropout) are carried over from the row before, since such layers keep their input's width.

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    >>> [(r.name, r.type, r.out_size, r.params) for r in layer_table(net)]
    [('0', 'Linear', 8, 40), ('1', 'ReLU', 8, 0), ('2', 'Linear', 2, 18)]
    """
    rows: list[Layer] = []
    counted: set[int] = set()
    for name, module in model.named_modules():
        owned = list(module.parameters(recurse=False))
        own = sum(_numel(p) for p in owned if id(p) not in counted)
        shared = sum(_numel(p) for p in owned if id(p) in counted)
        counted.update(id(p) for p in owned)
        is_leaf = next(iter(module.children()), None) is None
        if owned or is_leaf:
            rows.append(_row(name, module, own, shared))
    if depth is not None:
        rows = _fold(model, rows, depth)
    return _carry_sizes(rows)


def _fold(model: nn.Module, rows: list[Layer], depth: int) -> list[Layer]:
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    folded: dict[str, Layer] = {}
    totals: dict[str, int] = {}
    shared: dict[str, int] = {}
    for row in rows:
        group = ".".join(row.name.split(".")[:depth])
        if group not in folded:
            base = row if group == row.name else _row(group, model.get_submodule(group), 0)
            folded[group] = base if base is row else replace(base, in_size=row.in_size, out_size=None)
            totals[group] = shared[group] = 0
        totals[group] += row.params
        shared[group] += row.shared
        if group != row.name:
            folded[group] = replace(folded[group], out_size=row.out_size or folded[group].out_size,
                                    lazy=folded[group].lazy or row.lazy)
    return [replace(layer, params=totals[name], shared=shared[name]) for name, layer in folded.items()]


def _carry_sizes(rows: list[Layer]) -> list[Layer]:
    carried = []
    previous_out = None
    for row in rows:
        if row.in_size is None and row.out_size is None and not row.has_weights:
            row = replace(row, in_size=previous_out, out_size=previous_out)
        carried.append(row)
        if row.out_size is not None:
            previous_out = row.out_size
    return carried


def auto_depth(model: nn.Module, max_rows: int = 40) -> int | None:
    """The deepest folding that keeps the table at ``max_rows`` rows or fewer (``None``: no folding)."""
    rows = layer_table(model)
    if len(rows) <= max_rows:
        return None
    for depth in range(max_depth(model), 0, -1):
        if len(_fold(model, rows, depth)) <= max_rows:
            return depth
    return 1


def resolve_layer(model: nn.Module, name: str) -> nn.Module:
    """The submodule called ``name``; a ``ValueError`` listing close names when there is none."""
    if not isinstance(name, str):
        raise TypeError(f"layer must be a str (a qualified module name), got {type(name).__name__}")
    names = [n for n, _ in model.named_modules()]
    if name in names:
        return model.get_submodule(name)
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    shown = ", ".join(repr(n) for n in names[:12]) + (", ..." if len(names) > 12 else "")
    raise ValueError(f"no layer named {name!r} in {type(model).__name__}{hint} (layers: {shown})")
