"""Cancel a division against a factor: ``(a / d) * d -> a`` through negations, sums, products.

Gradients of ``log(p)`` divide by ``p``; the chain rule then multiplies by ``p``'s own
derivative, which holds ``p`` as a factor (``sigmoid(z) * sigmoid(-z)``, softmax's
``sm * (dy - ...)``). Where ``p`` underflows to 0 that is ``0 * inf``; cancelling the
pair first gives the finite value. Theano assumes ``d != 0`` here as it does for ``x / x``.
"""
from __future__ import annotations

from typing import Callable

from ..graph.basic import Variable
from ..tensor import math as tm
from ..tensor import scalar_ops as ps
from ..tensor.elemwise import DimShuffle
from ..tensor.subtensor import IncSubtensor
from .utils import is_const, owner_op

_MAX_DEPTH = 8


def same_var(d: Variable) -> Callable[[Variable], bool]:
    """A denominator test that accepts ``d`` itself (or, for a dimshuffle, the same
    dimshuffle of the same variable)."""
    def test(b: Variable) -> bool:
        if b is d:
            return True
        return (b.owner is not None and d.owner is not None and isinstance(d.owner.op, DimShuffle)
                and b.owner.op == d.owner.op and b.owner.inputs[0] is d.owner.inputs[0])

    test.var = d
    return test


def _indexed_like(node, is_d: Callable) -> Callable[[Variable], bool]:
    """A test for ``base[index]`` with ``node``'s index and a base that passes ``is_d``."""
    op, index = node.op, list(node.inputs[2:])

    def test(b: Variable) -> bool:
        o = b.owner
        return (o is not None and type(o.op) is op.sub_op and o.op.idx_list == op.idx_list
                and list(o.inputs[1:]) == index and is_d(o.inputs[0]))

    return test


def times_denominator(expr: Variable, is_d: Callable[[Variable], bool],
                      depth: int = 0) -> Variable | None:
    """``expr * d`` written without dividing by ``d`` (``is_d`` tells ``d``), or None.

    Handles ``a / d``, ``-e``, ``e * c``, ``e / c``, sums whose every term cancels,
    ``dimshuffle(e)`` against the same dimshuffle of a divisor, and
    ``inc_subtensor(zeros, e, index)`` where ``e`` divides by ``d[index]`` (the gradient of
    an indexed log, such as the hand-written crossentropy).
    """
    if expr.owner is None or depth > _MAX_DEPTH:
        return None
    node, deeper = expr.owner, depth + 1
    if owner_op(expr, ps.TrueDiv):
        a, b = node.inputs
        if is_d(b):
            return a
        h = times_denominator(a, is_d, deeper)
        return None if h is None else tm.true_div(h, b)
    if owner_op(expr, ps.Neg):
        h = times_denominator(node.inputs[0], is_d, deeper)
        return None if h is None else -h
    if owner_op(expr, ps.Mul):
        for k, t in enumerate(node.inputs):
            h = times_denominator(t, is_d, deeper)
            if h is not None:
                return tm.mul(h, *node.inputs[:k], *node.inputs[k + 1:])
        return None
    if owner_op(expr, (ps.Add, ps.Sub)):
        parts = [times_denominator(t, is_d, deeper) for t in node.inputs]
        if any(p is None for p in parts):
            return None
        return node.op(*parts)
    if isinstance(node.op, DimShuffle):
        # ds(e) * ds(b) = ds(e * b): a per-row divisor, broadcast like the rows it divides
        d = getattr(is_d, "var", None)
        if d is None or d.owner is None or d.owner.op != node.op:
            return None
        h = times_denominator(node.inputs[0], same_var(d.owner.inputs[0]), deeper)
        return None if h is None else node.op(h)
    if isinstance(node.op, IncSubtensor):
        zeros, vals, *index = node.inputs
        if not is_const(zeros, 0):
            return None
        h = times_denominator(vals, _indexed_like(node, is_d), deeper)
        return None if h is None else node.op(zeros, h, *index)
    return None
