"""Row fusion: ``X @ v``, an elementwise function of it, and ``X.T @`` one of its outputs
become one ``DotElemwiseDot`` node, so that a backend reads ``X`` once instead of twice
(a linear model's training step is two passes over its data matrix otherwise).
"""
from __future__ import annotations

from ..graph.fg import FunctionGraph
from ..tensor.elemwise import DimShuffle, Elemwise
from ..tensor.math import Dot
from ..tensor.rewritten_ops import DotElemwiseDot
from .engine import copy_trace


def _transposed_matrix(var):
    """``X`` when ``var`` is ``X.T`` of a matrix ``X``, else None."""
    node = var.owner
    if node is not None and isinstance(node.op, DimShuffle) and node.op.new_order == (1, 0):
        return node.inputs[0]
    return None


def _depends_on(var, target, limit: int = 200) -> bool:
    """True when ``target`` is an ancestor of ``var`` (searched up to ``limit`` nodes)."""
    stack, seen = [var], set()
    while stack and len(seen) < limit:
        v = stack.pop()
        if v is target:
            return True
        if v.owner is not None and v.owner not in seen:
            seen.add(v.owner)
            stack.extend(v.owner.inputs)
    return bool(stack)  # gave up: assume it does


def _candidate(node):
    """(X, v, elemwise node, z position, output index) for ``X.T @ elemwise(X @ v, ...)[k]``."""
    if not isinstance(node.op, Dot):
        return None
    x, g = _transposed_matrix(node.inputs[0]), node.inputs[1]
    e = g.owner
    if x is None or x.ndim != 2 or g.ndim != 1 or e is None or not isinstance(e.op, Elemwise) \
            or e.op.inplace_pattern or node.outputs[0].dtype != x.dtype or g.dtype != x.dtype:
        return None
    for pos, z in enumerate(e.inputs):
        d = z.owner
        if (d is not None and isinstance(d.op, Dot) and d.inputs[0] is x and d.inputs[1].ndim == 1
                and z.dtype == x.dtype and e.inputs.count(z) == 1):
            others = e.inputs[:pos] + e.inputs[pos + 1:]
            # every other input one value per row (or broadcast), none computed from z
            if all(o.ndim == 1 for o in others) and not any(_depends_on(o, z) for o in others):
                return x, d.inputs[1], e, pos, e.outputs.index(g)
    return None


def fuse_row_dots(fgraph: FunctionGraph) -> int:
    """Replace every ``X.T @ elemwise(X @ v, ...)[k]`` by a ``DotElemwiseDot``; returns the count."""
    done = 0
    for node in fgraph.toposort():
        if node not in fgraph.apply_nodes:
            continue
        found = _candidate(node)
        if found is None:
            continue
        x, v, e, pos, k = found
        z = e.inputs[pos]
        op = DotElemwiseDot(e.op, pos, k)
        new = op.make_node(x, v, *(e.inputs[:pos] + e.inputs[pos + 1:]))
        pairs = [(z, new.outputs[0])] + list(zip(e.outputs, new.outputs[1:-1])) \
            + [(node.outputs[0], new.outputs[-1])]
        if any(old.type != rep.type for old, rep in pairs):
            continue
        for old, rep in pairs:
            if old in fgraph.clients:
                fgraph.replace(old, rep, reason="row_fusion")
                copy_trace(rep, old, fgraph)
        done += 1
    return done
