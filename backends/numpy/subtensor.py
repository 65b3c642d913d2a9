"""Indexing kernels: basic and advanced subtensor, inc/set_subtensor.

Written against the array module ``xp`` (numpy here; the CUDA backend registers the same
factories with ``xp=cupy``)."""
from __future__ import annotations

import numpy as np

from core.tensor.subtensor import (AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor,
                                   Subtensor, index_builder)

from . import registry


def _in_memory_of(xp, index_inputs):
    """A function putting the integer arrays of an index in ``xp``'s memory (a device's),
    or None when nothing moves: no index arrays (slices and scalars are read on the host),
    or host arrays for numpy."""
    arrays = {k for k, v in enumerate(index_inputs) if v.type.ndim}
    if not arrays or xp is np:
        return None
    return lambda index: [xp.asarray(v) if k in arrays else v for k, v in enumerate(index)]


@registry.register(Subtensor, AdvancedSubtensor)
def subtensor_kernel(node, xp=np):
    build = index_builder(node.op.idx_list, node.inputs[1:])
    move = _in_memory_of(xp, node.inputs[1:])

    def kernel(x, *index):
        out = x[build(index)]
        return out if type(out) is xp.ndarray else xp.asarray(out)

    if move is None:
        return kernel
    return lambda x, *index: kernel(xp.asarray(x), *move(index))


def _check_broadcast(y_static: tuple, target: tuple, y_shape: tuple, name: str) -> None:
    """Broadcasting is static: a dimension of ``y`` not declared of size 1 must match."""
    lead = len(target) - len(y_shape)
    for d, (s, n) in enumerate(zip(y_static, y_shape)):
        if s != 1 and n != target[lead + d]:
            raise ValueError(
                f"{name}: a value of shape {y_shape} does not match x[index] of shape {target} "
                f"in axis {d}; broadcasting needs that axis declared of size 1 "
                f"(e.g. T.row or shape=(1, None))")


@registry.register(IncSubtensor, AdvancedIncSubtensor)
def inc_subtensor_kernel(node, xp=np, add_at=np.add.at):
    """``add_at(out, index, y)``: ``xp``'s unbuffered add (repeated indices add up)."""
    op = node.op
    build = index_builder(op.idx_list, node.inputs[2:])
    move = _in_memory_of(xp, node.inputs[2:])
    y_static = node.inputs[1].type.shape
    maybe_bad = [d for d, s in enumerate(y_static) if s != 1]
    accumulate = isinstance(op, AdvancedIncSubtensor) and "a" in op.idx_list
    name = str(op)

    def kernel(x, y, *index):
        idx = build(index if move is None else move(index))
        out, y = xp.asarray(x).copy(), xp.asarray(y)
        if any(y.shape[d] == 1 for d in maybe_bad):
            _check_broadcast(y_static, np.shape(out[idx]), y.shape, name)
        if op.set_instead_of_inc:
            out[idx] = y
        elif accumulate:
            add_at(out, idx, y)
        else:
            out[idx] += y
        return out

    return kernel
