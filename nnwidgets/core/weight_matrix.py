"""Any weight as a 2-D matrix, and that matrix reduced to what a screen can show, extremes kept."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .model_version import is_lazy

DEFAULT_MAX_CELLS = 65_536


@dataclass(frozen=True)
class MatrixView:
    """A 2-D weight matrix with the words for its axes. ``tensor`` is a view of the parameter (no copy,
    any dtype and device); ``values`` reads all of it into numpy — use it for small matrices only."""

    tensor: torch.Tensor
    row_label: str
    col_label: str

    @property
    def values(self) -> np.ndarray:
        return tensor_to_numpy(self.tensor, "the matrix")

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.tensor.shape)


def _axes(module: nn.Module, param_name: str, ndim: int) -> tuple[str, str]:
    if ndim <= 1:
        return "", "index"
    if isinstance(module, nn.RNNBase) and param_name.startswith("weight_"):
        gates = {"LSTM": "i,f,g,o", "GRU": "r,z,n"}.get(type(module).__name__, "")
        row = f"gate·hidden unit ({gates})" if gates else "hidden unit"
        return row, "input" if "_ih_" in param_name else "hidden unit"
    if isinstance(module, nn.Embedding | nn.EmbeddingBag):
        return "token", "embedding dim"
    if ndim > 2:
        return "output channel", "input channel × kernel position"
    return "output unit", "input feature"


def tensor_to_numpy(t: torch.Tensor, what: str) -> np.ndarray:
    """A weight's values as float32/float64 numpy on the CPU (read only: the tensor is not changed)."""
    check_readable(t, what)
    t = t.detach()
    if t.is_complex():
        t = t.abs()
    if t.dtype not in (torch.float32, torch.float64):
        t = t.float()  # float16/bfloat16/int widen exactly into float32
    return t.cpu().numpy()


def check_readable(t: torch.Tensor, what: str) -> None:
    if is_lazy(t):
        raise ValueError(f"{what} belongs to a lazy module that has not seen data yet: run one batch through the model first")
    if t.is_meta:
        raise ValueError(f"{what} is on the 'meta' device and has no values to show; load real weights first")


def weight_matrix(module: nn.Module, param_name: str) -> MatrixView:
    """The parameter ``param_name`` of ``module`` as a 2-D matrix — a view, never a copy.

    Linear: out × in. Conv: out × (in·kh·kw) (transposed convolutions are put out-first too).
    Embedding: tokens × dims. RNN: stacked gates × inputs, as torch stores them. 1-D: one row.

    >>> import torch
    >>> weight_matrix(torch.nn.Conv2d(3, 8, 5), "weight").values.shape
    (8, 75)
    """
    t = module.get_parameter(param_name)
    check_readable(t, f"parameter {param_name!r}")
    m = t.detach()
    if m.is_complex():
        m = m.abs()
    if isinstance(module, nn.modules.conv._ConvTransposeNd) and param_name == "weight":
        m = m.transpose(0, 1)
    if m.dim() == 0:
        m = m.reshape(1, 1)
    elif m.dim() == 1:
        m = m.unsqueeze(0)
    elif m.dim() > 2:
        m = m.flatten(1) if m.is_contiguous() else m.reshape(m.shape[0], -1)
    row_label, col_label = _axes(module, param_name, t.dim())
    return MatrixView(m, row_label, col_label)


def block_shape(rows: int, cols: int, max_cells: int) -> tuple[int, int]:
    """Block height and width so that pooling ``rows × cols`` yields at most ``max_cells`` cells.

    >>> block_shape(8192, 8192, 65536)
    (32, 32)
    """
    if max_cells < 1:
        raise ValueError(f"max_cells must be at least 1, got {max_cells}")
    if rows * cols <= max_cells:
        return 1, 1
    # Aim for square blocks; target_rows × target_cols ≤ max_cells bounds the pooled size.
    target_rows = min(rows, max_cells, max(1, math.floor(math.sqrt(max_cells * rows / cols))))
    target_cols = min(cols, max(1, max_cells // target_rows))
    return math.ceil(rows / target_rows), math.ceil(cols / target_cols)


@dataclass(frozen=True)
class Pooled:
    """A matrix pooled in blocks; each cell keeps its block's value of largest magnitude, signed."""

    values: np.ndarray
    block_rows: int
    block_cols: int
    min: float
    max: float


def _block_extremes(t: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Minimum and maximum of each block of ``size`` consecutive rows of ``t`` (the last block may be
    shorter). Strided views in, no copy of ``t``: one pass with ``aminmax`` over an ``unfold`` view."""
    rows = t.shape[0]
    full = rows // size
    parts_lo, parts_hi = [], []
    if full:
        lo, hi = torch.aminmax(t[: full * size].unfold(0, size, size), dim=-1)
        parts_lo.append(lo)
        parts_hi.append(hi)
    if rows % size:
        lo, hi = torch.aminmax(t[full * size:], dim=0, keepdim=True)
        parts_lo.append(lo)
        parts_hi.append(hi)
    return torch.cat(parts_lo), torch.cat(parts_hi)


def pool_signed_extreme(matrix: np.ndarray | torch.Tensor, max_cells: int = DEFAULT_MAX_CELLS) -> Pooled:
    """Reduce ``matrix`` to at most ``max_cells`` cells keeping each block's signed extreme.

    ``min`` and ``max`` are the exact extremes of the whole input. A torch tensor (any device or
    dtype, a strided view of a parameter) is read in place: nothing of its size is copied.

    >>> import numpy as np
    >>> p = pool_signed_extreme(np.array([[1., -5., 2., 3.]]), max_cells=2)
    >>> p.values.tolist(), p.min, p.max
    ([[-5.0, 3.0]], -5.0, 3.0)
    """
    t = torch.from_numpy(matrix) if isinstance(matrix, np.ndarray) else matrix.detach()
    rows, cols = t.shape
    if rows * cols == 0:
        raise ValueError("cannot show an empty matrix")
    br, bc = block_shape(rows, cols, max_cells)
    if br == bc == 1:
        values = t.cpu().numpy() if t.dtype in (torch.float32, torch.float64) else t.float().cpu().numpy()
        with np.errstate(invalid="ignore"):
            return Pooled(values.copy(), 1, 1, float(np.nanmin(values)), float(np.nanmax(values)))
    # Rows first (the big pass, over views), then columns of the much smaller result.
    lo, hi = _block_extremes(t, br)
    lo, _ = _block_extremes(lo.T, bc)
    _, hi = _block_extremes(hi.T, bc)
    lo, hi = lo.T, hi.T
    values = torch.where(-lo > hi, lo, hi)
    as_numpy = lambda x: (x if x.dtype in (torch.float32, torch.float64) else x.float()).cpu().numpy()  # noqa: E731
    values, lo, hi = as_numpy(values), as_numpy(lo), as_numpy(hi)
    with np.errstate(invalid="ignore"):
        return Pooled(values, br, bc, float(np.nanmin(lo)), float(np.nanmax(hi)))


def clip_region(shape: tuple[int, int], region: tuple[int, int, int, int] | None) -> tuple[int, int, int, int]:
    """``(row0, row1, col0, col1)`` clipped to ``shape``, half-open; ``None`` or empty means all."""
    rows, cols = shape
    if not region:
        return 0, rows, 0, cols
    r0, r1, c0, c1 = (int(v) for v in region)
    r0, c0 = max(0, min(r0, rows - 1)), max(0, min(c0, cols - 1))
    r1, c1 = max(r0 + 1, min(r1, rows)), max(c0 + 1, min(c1, cols))
    return r0, r1, c0, c1
