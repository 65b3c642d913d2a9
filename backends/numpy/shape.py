"""Shape kernels."""
from __future__ import annotations

import numpy as np

from core.tensor.shape_ops import Alloc, MakeVector, Reshape, Shape, Shape_i

from . import registry


@registry.register(Shape)
def shape_kernel(node):
    return lambda x: np.asarray(np.shape(x), dtype=np.int64)


@registry.register(Shape_i)
def shape_i_kernel(node):
    i = node.op.i
    return lambda x: np.asarray(x.shape[i], dtype=np.int64)


@registry.register(MakeVector)
def make_vector_kernel(node):
    dtype = np.dtype(node.op.dtype)
    return lambda *xs: np.array(xs, dtype=dtype)


@registry.register(Reshape)
def reshape_kernel(node):
    def kernel(x, shape):
        try:
            return np.reshape(x, shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape an array of shape {x.shape} "
                             f"(size {x.size}) into shape {tuple(shape)}") from None

    return kernel


@registry.register(Alloc)
def alloc_kernel(node):
    dtype = np.dtype(node.outputs[0].dtype)

    def kernel(value, *shape):
        out = np.empty(tuple(int(s) for s in shape), dtype=dtype)
        out[...] = value
        return out

    return kernel
