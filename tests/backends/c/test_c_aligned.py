"""Result and scratch buffers start on a cache line; the result ring never hands out one that
a view still uses."""
from __future__ import annotations

import numpy as np
import pytest

from backends.c import aligned
from backends.c.result_ring import REUSE, REUSE_BYTES, ResultRing


@pytest.mark.parametrize("shape", [(0,), (3,), (1000, 7), (64, 32, 32, 16), ()])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int8"])
def test_empty_starts_on_a_cache_line(shape, dtype):
    a = aligned.empty(shape, dtype)
    assert a.shape == shape and a.dtype == np.dtype(dtype) and a.flags.c_contiguous
    assert a.size == 0 or a.ctypes.data % aligned.LINE == 0  # (empty: no memory to align)
    a[...] = 1  # writable, all of it
    assert np.all(a == 1)


@pytest.mark.skipif(not REUSE, reason="no reuse on this Python")
def test_ring_reuses_a_free_buffer_and_never_one_a_view_holds():
    ring = ResultRing(np.float32)
    shape = (REUSE_BYTES // 4 + 16,)
    first = ring(shape)
    address = first.ctypes.data
    assert address % aligned.LINE == 0
    del first
    second = ring(shape)
    assert second.ctypes.data == address  # free: reused
    view = second[::2]
    del second
    assert ring(shape).ctypes.data != address  # a view of it is alive
    assert view.shape == (shape[0] // 2,)
