"""Indexing kernels: basic and advanced subtensor, inc/set_subtensor."""
from __future__ import annotations

import numpy as np

from core.tensor.subtensor import (AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor,
                                   Subtensor, index_builder)

from . import registry


@registry.register(Subtensor, AdvancedSubtensor)
def subtensor_kernel(node):
    build = index_builder(node.op.idx_list, node.inputs[1:])

    def kernel(x, *index):
        out = x[build(index)]
        return out if type(out) is np.ndarray else np.asarray(out)

    return kernel


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
def inc_subtensor_kernel(node):
    op = node.op
    build = index_builder(op.idx_list, node.inputs[2:])
    y_static = node.inputs[1].type.shape
    maybe_bad = [d for d, s in enumerate(y_static) if s != 1]
    accumulate = isinstance(op, AdvancedIncSubtensor) and "a" in op.idx_list
    name = str(op)

    def kernel(x, y, *index):
        idx = build(index)
        out = x.copy()
        if any(y.shape[d] == 1 for d in maybe_bad):
            _check_broadcast(y_static, np.shape(out[idx]), y.shape, name)
        if op.set_instead_of_inc:
            out[idx] = y
        elif accumulate:
            np.add.at(out, idx, y)
        else:
            out[idx] += y
        return out

    return kernel
