"""Pure logic over a model and numpy arrays: no widget or Jupyter imports, usable in scripts.

The :class:`Inspector` is the entry point: one model, its data, the selection and shared results.
"""

from .array_codec import decode_array, encode_array
from .colormap import DIVERGING, diverging_lut
from .heatmap import Heatmap, heatmap
from .inspector import Inspector, ModelChanged, ensure_module
from .layer_table import Layer, auto_depth, layer_table, main_weight_name, max_depth, resolve_layer
from .model_output import OutputKind
from .model_version import model_signature
from .shadow import ShadowError, build_shadow
from .weight_matrix import DEFAULT_MAX_CELLS, MatrixView, pool_signed_extreme, tensor_to_numpy, weight_matrix

__all__ = [
    "DEFAULT_MAX_CELLS",
    "DIVERGING",
    "Heatmap",
    "Inspector",
    "Layer",
    "MatrixView",
    "ModelChanged",
    "OutputKind",
    "ShadowError",
    "auto_depth",
    "build_shadow",
    "decode_array",
    "diverging_lut",
    "encode_array",
    "ensure_module",
    "heatmap",
    "layer_table",
    "main_weight_name",
    "max_depth",
    "model_signature",
    "pool_signed_extreme",
    "resolve_layer",
    "tensor_to_numpy",
    "weight_matrix",
]
