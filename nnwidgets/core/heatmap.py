"""What a weight heatmap shows for one parameter: a region of its matrix, pooled to fit a screen."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from .weight_matrix import DEFAULT_MAX_CELLS, clip_region, pool_signed_extreme, weight_matrix


@dataclass(frozen=True)
class Heatmap:
    """``values`` covers ``region`` (half-open ``row0, row1, col0, col1``) of a ``shape`` matrix;
    each cell stands for ``block_rows × block_cols`` weights (1 × 1: exact values).
    ``min``/``max`` are the exact extremes inside the region."""

    values: np.ndarray
    region: tuple[int, int, int, int]
    shape: tuple[int, int]
    block_rows: int
    block_cols: int
    min: float
    max: float
    row_label: str
    col_label: str

    @property
    def full_resolution(self) -> bool:
        return self.block_rows == self.block_cols == 1


def heatmap(
    module: nn.Module,
    param_name: str,
    region: tuple[int, int, int, int] | None = None,
    max_cells: int = DEFAULT_MAX_CELLS,
) -> Heatmap:
    """Pool ``region`` of the parameter's matrix (all of it when ``None``) to ≤ ``max_cells`` cells.

    >>> import torch
    >>> h = heatmap(torch.nn.Linear(300, 400), "weight", max_cells=10_000)
    >>> h.values.shape, (h.block_rows, h.block_cols), h.full_resolution
    ((100, 75), (4, 4), False)
    >>> heatmap(torch.nn.Linear(300, 400), "weight", region=(0, 10, 0, 10)).full_resolution
    True
    """
    view = weight_matrix(module, param_name)
    r0, r1, c0, c1 = clip_region(view.shape, region)
    pooled = pool_signed_extreme(view.tensor[r0:r1, c0:c1], max_cells)  # reads the region only, where it lives
    return Heatmap(
        values=pooled.values,
        region=(r0, r1, c0, c1),
        shape=view.shape,
        block_rows=pooled.block_rows,
        block_cols=pooled.block_cols,
        min=pooled.min,
        max=pooled.max,
        row_label=view.row_label,
        col_label=view.col_label,
    )
