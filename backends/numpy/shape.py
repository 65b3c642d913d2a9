"""Shape kernels (``alloc_kernel`` over the array module ``xp``: numpy here, and cupy
where the CUDA backend registers it)."""
from __future__ import annotations

import numpy as np

from core.tensor.shape_ops import Alloc, MakeVector, Rebroadcast, Reshape, Shape, Shape_i

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
def alloc_kernel(node, xp=np):
    dtype = np.dtype(node.outputs[0].dtype)
    value_type = node.inputs[0].type
    # Axes of the value that must match the target size (broadcasting is static).
    strict = [d for d, s in enumerate(value_type.shape) if s != 1]

    def kernel(value, *shape):
        shape = tuple(int(s) for s in shape)
        offset = len(shape) - value.ndim
        for d in strict:
            if value.shape[d] != shape[offset + d]:
                raise ValueError(
                    f"alloc: the value has shape {value.shape}, but its axis {d} (not declared "
                    f"broadcastable, {value_type}) must equal the target size {shape[offset + d]}; "
                    f"target shape {shape}")
        out = xp.empty(shape, dtype=dtype)
        out[...] = xp.asarray(value)
        return out

    return kernel


@registry.register(Rebroadcast)
def rebroadcast_kernel(node):
    axes = [a for a, flag in node.op.axes if flag]

    def kernel(x):
        for a in axes:
            if x.shape[a] != 1:
                raise ValueError(f"addbroadcast: axis {a} was declared broadcastable but has "
                                 f"size {x.shape[a]} (input shape {x.shape})")
        return x

    return kernel
