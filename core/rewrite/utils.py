"""Small matching helpers shared by the rewrites."""
from __future__ import annotations

import numpy as np

from ..graph.basic import Constant, Variable
from ..tensor import math as tm
from ..tensor import scalar_ops as ps
from ..tensor.elemwise import Elemwise
from ..tensor.variable import TensorConstant, constant


def owner_op(var: Variable, scalar_cls: type | tuple) -> bool:
    """True if ``var`` is computed by ``Elemwise`` of a ``scalar_cls`` scalar op."""
    node = var.owner
    return (node is not None and isinstance(node.op, Elemwise)
            and isinstance(node.op.scalar_op, scalar_cls))


def is_op(var: Variable, op_cls: type | tuple) -> bool:
    """True if ``var`` is computed by an ``op_cls`` op."""
    return var.owner is not None and isinstance(var.owner.op, op_cls)


def scalar_value(var: Variable):
    """The value of a constant whose elements are all equal (or of a fill of one), else None."""
    while var.owner is not None and owner_op(var, ps.Second):
        var = var.owner.inputs[1]
    if var.owner is not None and type(var.owner.op).__name__ == "DimShuffle":
        var = var.owner.inputs[0]
    if not isinstance(var, Constant):
        return None
    data = np.asarray(var.data)
    if data.size == 0:
        return None
    first = data.flat[0]
    if data.size > 1 and not np.all(data == first):
        return None
    return first


def is_const(var: Variable, value: float) -> bool:
    """True if ``var`` is a constant (or fill of one) equal to ``value`` everywhere."""
    v = scalar_value(var)
    return v is not None and bool(v == value)


def single_client(fgraph, var: Variable) -> bool:
    """True if exactly one node reads ``var`` and it is not a graph output."""
    clients = fgraph.clients.get(var, [])
    return len(clients) == 1 and clients[0][0] != "output"


def covers(v: Variable, out: Variable) -> bool:
    """True if ``v`` has ``out``'s rank and broadcasts on no axis where ``out`` does not."""
    return v.ndim == out.ndim and not any(
        o != 1 and s == 1 for o, s in zip(out.type.shape, v.type.shape))


def fit(new: Variable, old: Variable, shape_ref: Variable | None = None) -> Variable | None:
    """``new`` made to stand for ``old``: same dtype (cast), and broadcast like it.

    When ``new`` broadcasts where ``old`` does not, it is filled to the shape of
    ``shape_ref`` (a variable of ``old``'s shape); returns None when that is not
    possible, so the caller skips the rewrite.
    """
    if new.ndim < old.ndim:
        new = new.dimshuffle(*(["x"] * (old.ndim - new.ndim) + list(range(new.ndim))))
    if new.dtype != old.dtype:
        new = tm.cast(new, old.dtype)
    if any(o != 1 and n == 1 for o, n in zip(old.type.shape, new.type.shape)):
        if shape_ref is None:
            return None
        new = tm.fill(shape_ref, new)
        if new.dtype != old.dtype:
            new = tm.cast(new, old.dtype)
        if any(o != 1 and n == 1 for o, n in zip(old.type.shape, new.type.shape)):
            return None
    return new


def const_like(value, var: Variable) -> TensorConstant:
    """A constant of ``var``'s dtype and rank holding ``value`` (broadcastable everywhere)."""
    return constant(np.asarray(value, dtype=var.dtype).reshape((1,) * var.ndim))


def elemwise_inputs(var: Variable, scalar_cls) -> list[Variable]:
    """The inputs of ``var``'s Elemwise{scalar_cls} node (``[var]`` if not one)."""
    return list(var.owner.inputs) if owner_op(var, scalar_cls) else [var]
