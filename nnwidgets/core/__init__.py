"""Pure functions over a model and numpy arrays: no widget or Jupyter imports, usable in scripts."""

from .array_codec import decode_array, encode_array
from .colormap import DIVERGING, diverging_lut
from .heatmap import Heatmap, heatmap
from .layer_table import Layer, auto_depth, layer_table, main_weight_name, max_depth, resolve_layer
from .model_access import ensure_module, model_access
from .model_version import model_signature
from .weight_matrix import DEFAULT_MAX_CELLS, MatrixView, pool_signed_extreme, weight_matrix

__all__ = [
    "DEFAULT_MAX_CELLS",
    "DIVERGING",
    "Heatmap",
    "Layer",
    "MatrixView",
    "auto_depth",
    "decode_array",
    "diverging_lut",
    "encode_array",
    "ensure_module",
    "heatmap",
    "layer_table",
    "main_weight_name",
    "max_depth",
    "model_access",
    "model_signature",
    "pool_signed_extreme",
    "resolve_layer",
    "weight_matrix",
]
