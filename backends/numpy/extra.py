"""Kernels for the products in core.tensor.extra."""
from __future__ import annotations

import numpy as np

from core.tensor.extra import BatchedDot

from . import registry
from .scan import Buffers

REUSE_MIN = 1 << 15  # products this large write into last call's array when it is free


@registry.register(BatchedDot)
def batched_dot_kernel(node):
    dtype = np.dtype(node.outputs[0].dtype)
    # only a batch axis of static size 1 broadcasts (the graph's types and gradient say so)
    static = [v.type.shape[0] == 1 for v in node.inputs]
    buffers = Buffers()  # a big product reuses its array: no page faults on a fresh one

    def kernel(x, y):
        if (x.shape[0] != y.shape[0] and not static[0] and not static[1]) \
                or x.shape[2] != y.shape[1]:
            raise ValueError(f"batched_dot: shapes {x.shape} and {y.shape} are not aligned")
        x, y = x.astype(dtype, copy=False), y.astype(dtype, copy=False)
        shape = (max(x.shape[0], y.shape[0]) if min(x.shape[0], y.shape[0]) else 0,
                 x.shape[1], y.shape[2])
        if shape[0] * shape[1] * shape[2] < REUSE_MIN:
            return np.matmul(x, y)
        return np.matmul(x, y, out=buffers.empty("out", shape, dtype))

    return kernel
