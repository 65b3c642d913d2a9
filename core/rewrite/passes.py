"""Global passes: merge (common subexpressions, equal constants) and constant folding."""
from __future__ import annotations

import numpy as np

from ..graph.basic import Constant
from ..graph.fg import FunctionGraph
from .engine import register


def merge(fgraph: FunctionGraph) -> int:
    """Make equal constants one variable and identical nodes one node; returns merges done.

    Nodes are visited inputs-first and keyed by ``(op, input identities)`` (in
    any order for commutative elementwise ops), so a whole repeated
    subexpression collapses in one sweep.
    """
    done = 0
    seen_const: dict = {}
    for var in list(fgraph.clients):
        if isinstance(var, Constant) and var in fgraph.clients and var not in fgraph.inputs:
            data = np.asarray(var.data)
            key = (var.type, data.dtype.str, data.shape, data.tobytes())
            first = seen_const.setdefault(key, var)
            if first is not var:
                fgraph.replace(var, first, reason="merge")
                done += 1
    seen: dict = {}
    for node in fgraph.toposort():
        if node not in fgraph.apply_nodes or node.op.destroy_map or getattr(node.op, "keep_node", False):
            continue
        ids = tuple(map(id, node.inputs))
        if getattr(getattr(node.op, "scalar_op", None), "commutative", False) and len(node.outputs) == 1:
            ids = tuple(sorted(ids))  # x * y and y * x are one node
        key = (node.op, ids)
        try:
            other = seen.setdefault(key, node)
        except TypeError:  # an op that cannot be hashed is never merged
            continue
        if other is not node and other in fgraph.apply_nodes:
            for old, new in zip(node.outputs, other.outputs):
                if old in fgraph.clients:
                    fgraph.replace(old, new, reason="merge")
            done += 1
        elif other is not node:
            seen[key] = node
    return done


# Ops whose outputs must not be folded (random draws, printing, huge broadcasts).
NO_FOLD_NAMES = {"Print", "RandomVariable", "Assert"}
MAX_FOLD_SIZE = 100_000


@register("canonicalize", tags=("constant_folding", "fast_compile"))
def constant_folding(fgraph, node):
    """A node whose inputs are all constants becomes its value, computed by the numpy kernel."""
    if not node.inputs or not all(isinstance(i, Constant) for i in node.inputs):
        return None
    op = node.op
    if (op.destroy_map or getattr(op, "no_constant_folding", False) or getattr(op, "keep_node", False)
            or type(op).__name__ in NO_FOLD_NAMES):
        return None
    from backends import make_kernel

    try:
        values = make_kernel(node, "numpy")(*[i.data for i in node.inputs])
    except Exception:  # an error at run time must stay an error at run time
        return None
    if len(node.outputs) == 1:
        values = (values,)
    out = []
    for var, value in zip(node.outputs, values):
        value = np.asarray(value)
        if value.size > MAX_FOLD_SIZE:
            return None
        ctype = var.type.constant_type
        if ctype is None:
            return None
        out.append(ctype(var.type, value.astype(var.type.dtype, copy=True)))
    return out
