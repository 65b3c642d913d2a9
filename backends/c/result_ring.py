"""Result buffers a kernel reuses across calls once nobody holds them any more."""
from __future__ import annotations

import math
import sys
from sys import getrefcount

import numpy as np

from . import aligned

REUSE_BYTES = 1 << 18  # results this large reuse a free buffer of an earlier call
# exact reference counts, as the elementwise kernels' reuse (off from CPython 3.14, which
# borrows some references)
REUSE = sys.version_info < (3, 14)


class ResultRing:
    """Result buffers of one kernel, reused across calls once nobody holds them any more (a
    training step's activations are freed by the next step): no fresh pages to fault in
    for a large result every call (6% of a CIFAR CNN step). Two, so that the buffer of
    the step before can be reused while this step's is still held."""

    def __init__(self, dtype):
        self.dtype, self.ring = dtype, [None, None]
        self.itemsize = np.dtype(dtype).itemsize

    def __call__(self, shape: tuple) -> np.ndarray:
        ring = self.ring
        for k in range(2):
            # 3 references: the ring, this local, getrefcount's argument (a live view: 4);
            # its cache-line-aligned memory (a view's base, as numpy points every view
            # made from it): the ring's buffer and getrefcount's argument
            buf = ring[k]
            if (buf is not None and buf.shape == shape and REUSE and getrefcount(buf) == 3
                    and getrefcount(buf.base) == 2):
                return buf
        if self.itemsize * math.prod(shape) < REUSE_BYTES:
            return np.empty(shape, self.dtype)  # (aligning costs more than it saves here)
        buf = aligned.empty(shape, self.dtype)  # every vector load within a cache line
        if REUSE:
            ring[1], ring[0] = ring[0], buf
        return buf


class Scratch:
    """A kernel's working buffer, kept across its calls and grown (starting on a cache
    line) when a call needs more."""

    def __init__(self, dtype):
        self.dtype, self.buf = np.dtype(dtype), np.empty(0, dtype)

    def __call__(self, size: int) -> np.ndarray:
        """The buffer's first ``size`` elements."""
        if self.buf.size < size:
            self.buf = aligned.empty(size, self.dtype)
        return self.buf[:size]


class Parts:
    """Scratch rows of per-block partial sums, kept across calls, each row starting on a
    cache line of its own: threads adding into neighbouring blocks' rows never write one
    line (a shared line bounces between the cores at every add)."""

    def __init__(self, dtype):
        self.scratch = Scratch(dtype)

    def __call__(self, blocks: int, width: int) -> tuple[np.ndarray, int]:
        """``(flat buffer of blocks rows, row stride in elements >= width)``."""
        per_line = aligned.LINE // self.scratch.dtype.itemsize
        stride = -(-width // per_line) * per_line
        return self.scratch(blocks * stride), stride
