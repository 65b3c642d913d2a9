"""Reduction and product kernels."""
from __future__ import annotations

import numpy as np

from core.tensor import scalar_ops as ps
from core.tensor.math import Argmax, Argmin, CAReduce, Dot

from . import registry

_REDUCERS = {ps.Add: np.sum, ps.Mul: np.prod, ps.Maximum: np.max, ps.Minimum: np.min,
             ps.AND: np.all, ps.OR: np.any}


@registry.register(CAReduce)
def careduce_kernel(node):
    op = node.op
    reducer = _REDUCERS.get(type(op.scalar_op))
    if reducer is None:
        raise NotImplementedError(f"no numpy reduction for {op.scalar_op}")
    axis = op.axis
    dtype = np.dtype(node.outputs[0].dtype)
    typed = reducer in (np.sum, np.prod)

    def kernel(x):
        if typed:
            return np.asarray(reducer(x, axis=axis, dtype=dtype))
        if x.size == 0 and reducer in (np.max, np.min):
            raise ValueError(f"{op}: cannot reduce an empty array of shape {x.shape}")
        return np.asarray(reducer(x, axis=axis)).astype(dtype, copy=False)

    return kernel


@registry.register(Argmax)
def argmax_kernel(node):
    fn = np.argmin if isinstance(node.op, Argmin) else np.argmax
    axis = node.op.axis

    def kernel(x):
        return np.asarray(fn(x, axis=axis), dtype=np.int64)

    return kernel


@registry.register(Dot)
def dot_kernel(node):
    dtype = np.dtype(node.outputs[0].dtype)

    def kernel(x, y):
        if x.dtype != dtype:
            x = x.astype(dtype)
        if y.dtype != dtype:
            y = y.astype(dtype)
        return np.asarray(np.dot(x, y))

    return kernel
