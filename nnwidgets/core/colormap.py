"""The one diverging colour map that every view and figure uses."""

from __future__ import annotations

import functools

import numpy as np

# ColorBrewer's RdBu is rated colour-blind safe; reversed so that positive weights are red.
DIVERGING = "RdBu_r"


@functools.cache
def diverging_lut(size: int = 256) -> np.ndarray:
    """``size × 3`` uint8 RGB table of :data:`DIVERGING`, index ``size // 2`` being zero.

    >>> diverging_lut().shape
    (256, 3)
    """
    from matplotlib import colormaps

    rgba = colormaps[DIVERGING].resampled(size)(np.arange(size))
    return np.round(rgba[:, :3] * 255).astype(np.uint8)
