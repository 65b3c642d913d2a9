"""Indexing. (Basic and advanced indexing land with the op-library issue.)"""
from __future__ import annotations

from ..graph.basic import Variable


def getitem(x: Variable, index):
    """``x[index]``."""
    from .shape_ops import Shape, shape_i

    if x.owner is not None and isinstance(x.owner.op, Shape) and isinstance(index, int):
        return shape_i(x.owner.inputs[0], index)
    raise NotImplementedError(f"indexing {x} with {index!r} is not supported yet")
