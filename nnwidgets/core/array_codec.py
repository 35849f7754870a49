"""numpy arrays as binary buffers for widget traits (never JSON lists), and back."""

from __future__ import annotations

import numpy as np

_WIRE_DTYPES = {
    np.dtype(np.float64): "float64",
    np.dtype(np.float32): "float32",
    np.dtype(np.int32): "int32",
    np.dtype(np.uint8): "uint8",
}


def encode_array(array: np.ndarray) -> dict:
    """``{"buffer": bytes, "dtype": str, "shape": [...]}``, little-endian C order.

    Kinds JS has no typed array for are narrowed: int64 → int32, bool → uint8, float16 → float32.

    >>> encode_array(np.arange(3, dtype=np.int64))["dtype"]
    'int32'
    """
    a = np.asarray(array)
    if a.dtype == np.bool_:
        a = a.astype(np.uint8)
    elif np.issubdtype(a.dtype, np.integer) and a.dtype != np.uint8:
        a = a.astype(np.int32)
    elif a.dtype not in _WIRE_DTYPES:
        a = a.astype(np.float32)
    a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
    return {"buffer": a.tobytes(), "dtype": _WIRE_DTYPES[np.dtype(a.dtype.name)], "shape": list(a.shape)}


def decode_array(payload: dict) -> np.ndarray:
    """The inverse of :func:`encode_array`.

    >>> decode_array(encode_array(np.eye(2))).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    dtype = np.dtype(payload["dtype"]).newbyteorder("<")
    return np.frombuffer(bytes(payload["buffer"]), dtype=dtype).reshape(payload["shape"])
