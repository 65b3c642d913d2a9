"""Joining and generating kernels (``arange_kernel`` and ``eye_kernel`` over the array
module ``xp``: numpy here, and cupy where the CUDA backend registers them)."""
from __future__ import annotations

import numpy as np

from core.tensor.join import ARange, Eye, Join, Repeat, Split

from . import registry


@registry.register(Join)
def join_kernel(node):
    axis = node.op.axis
    return lambda *xs: np.concatenate(xs, axis=axis)


@registry.register(Split)
def split_kernel(node):
    axis, n = node.op.axis, node.op.n_splits
    sizes_const = getattr(node.inputs[1], "data", None)
    if (sizes_const is not None and np.ndim(sizes_const) == 1 and len(sizes_const) == n
            and min(sizes_const.tolist(), default=0) >= 0):
        # constant sizes (an RNN step's gates): the slices are made once, ~1 us per call
        ends = np.cumsum(sizes_const).tolist()
        total = ends[-1] if ends else 0
        lead = (slice(None),) * (axis % node.inputs[0].ndim)
        slices = [lead + (slice(e - int(s), e),) for s, e in zip(sizes_const, ends)]

        def const_kernel(x, sizes):
            if x.shape[axis] != total:
                raise ValueError(f"split: sizes {sizes_const.tolist()} (for {n} splits) do not "
                                 f"add up to {x.shape[axis]}, the size of axis {axis} of an "
                                 f"array of shape {x.shape}")
            return tuple([x[s] for s in slices])

        return const_kernel

    def kernel(x, sizes):
        lead = (slice(None),) * (axis % x.ndim)
        sizes = sizes.tolist()  # basic slicing: a few us where np.split takes ~20
        if len(sizes) != n or min(sizes, default=0) < 0 or sum(sizes) != x.shape[axis]:
            raise ValueError(f"split: sizes {sizes} (for {n} splits) do not add up to "
                             f"{x.shape[axis]}, the size of axis {axis} of an array of shape {x.shape}")
        parts, start = [], 0
        for size in sizes:
            parts.append(x[lead + (slice(start, start + size),)])
            start += size
        return tuple(parts)

    return kernel


@registry.register(Repeat)
def repeat_kernel(node):
    axis = node.op.axis
    return lambda x, repeats: np.repeat(x, repeats, axis=axis)


@registry.register(ARange)
def arange_kernel(node, xp=np):
    dtype = np.dtype(node.op.dtype)

    def kernel(start, stop, step):
        if step == 0:
            raise ValueError("arange: step cannot be zero")
        return xp.arange(start.item(), stop.item(), step.item(), dtype=dtype)

    return kernel


@registry.register(Eye)
def eye_kernel(node, xp=np):
    dtype = np.dtype(node.op.dtype)
    return lambda n, m, k: xp.eye(int(n), int(m), int(k), dtype=dtype)
