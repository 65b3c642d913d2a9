"""Arrays whose data start on a cache line.

numpy's large arrays start 16 bytes past one (the allocator's header), so every 64-byte
vector load of a C kernel reading them whole spans two cache lines.
"""
from __future__ import annotations

import math

import numpy as np

LINE = 64  # bytes: one cache line, one AVX-512 vector


def empty(shape, dtype) -> np.ndarray:
    """An uninitialised C-contiguous array of ``shape`` and ``dtype`` starting on a cache line."""
    dtype = np.dtype(dtype)
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
    nbytes = math.prod(shape) * dtype.itemsize
    raw = np.empty(nbytes + LINE, np.uint8)
    start = -raw.ctypes.data % LINE
    return raw[start:start + nbytes].view(dtype).reshape(shape)
