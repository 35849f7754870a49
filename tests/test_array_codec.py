import numpy as np
import pytest

from nnwidgets.core import decode_array, encode_array


@pytest.mark.parametrize(
    ("array", "wire"),
    [
        (np.arange(6, dtype=np.float64).reshape(2, 3), "float64"),
        (np.ones((4,), np.float32), "float32"),
        (np.arange(5, dtype=np.int64), "int32"),
        (np.array([True, False]), "uint8"),
        (np.array([1.5], np.float16), "float32"),
        (np.arange(12, dtype=">f4").reshape(3, 4), "float32"),
    ],
)
def test_round_trip(array, wire):
    payload = encode_array(array)
    assert payload["dtype"] == wire and isinstance(payload["buffer"], bytes)
    assert payload["shape"] == list(array.shape)
    assert np.array_equal(decode_array(payload), array)


def test_non_contiguous_input():
    a = np.arange(20, dtype=np.float32).reshape(4, 5)[:, ::2]
    assert np.array_equal(decode_array(encode_array(a)), a)
