"""Reduction and product kernels."""
from __future__ import annotations

import numpy as np

from core.tensor import scalar_ops as ps
from core.tensor.blas import Gemm, gemm_reference
from core.tensor.math import Argmax, Argmin, CAReduce, Dot

from . import registry

_REDUCERS = {ps.Add: np.add, ps.Mul: np.multiply, ps.Maximum: np.maximum,
             ps.Minimum: np.minimum, ps.AND: np.logical_and, ps.OR: np.logical_or}


@registry.register(CAReduce)
def careduce_kernel(node):
    op = node.op
    ufunc = _REDUCERS.get(type(op.scalar_op))
    if ufunc is None:
        raise NotImplementedError(f"no numpy reduction for {op.scalar_op}")
    axis = op.axis
    dtype = np.dtype(node.outputs[0].dtype)
    typed = ufunc in (np.add, np.multiply)  # accumulate in the output dtype
    has_identity = ufunc not in (np.maximum, np.minimum)
    zero_d = node.outputs[0].ndim == 0

    def kernel(x):
        if not has_identity and x.size == 0 and axis:
            raise ValueError(f"{op}: cannot reduce an empty array of shape {x.shape}")
        if typed:
            res = ufunc.reduce(x, axis=axis, dtype=dtype)
        else:
            res = ufunc.reduce(x, axis=axis)
            if res.dtype != dtype:
                res = res.astype(dtype)
        return np.asarray(res) if zero_d else res

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


@registry.register(Gemm)
def gemm_kernel(node):
    inplace = node.op.inplace

    def kernel(z, a, x, y, b):
        own = inplace and z.flags.writeable  # (strided too: a column block of a weight)
        return gemm_reference(z, a, x, y, b, out=z if own else None)

    return kernel
