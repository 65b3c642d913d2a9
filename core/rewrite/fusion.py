"""Elementwise fusion: trees of Elemwise nodes become one ``Elemwise(Composite)`` node.

A producer joins its consumer's group when every client of its output is in
the group (so nothing is computed twice) and its output broadcasts like the
group's root (so the fused loop does no more work than the original nodes).
A cheap producer (a few adds, negations, casts, comparisons) read by several
elementwise nodes joins each of their groups instead: recomputing it costs
less than a kernel call and a pass over memory of its own. A producer whose
other readers are graph outputs only (an update's new momentum read by the
parameter's update) joins as a second output of the fused loop. Finally,
sibling loops (independent of each other, over one full-size input they share)
merge into one loop with several outputs: one pass and one kernel call.
"""
from __future__ import annotations

import heapq

import numpy as np

from ..graph.basic import Constant
from ..graph.fg import FunctionGraph
from ..tensor import scalar_ops as ps
from ..tensor.composite import Composite
from ..tensor.elemwise import DimShuffle, Elemwise
from .engine import copy_trace

MAX_INPUTS = 32  # backends pass each input as an argument; keep the count sane
MAX_OUTPUTS = 8  # a fused LSTM step returns 7 (state, cell, the gates the backward reads)


def _fusable(node) -> bool:
    return (isinstance(node.op, Elemwise) and len(node.outputs) == 1
            and not node.op.inplace_pattern)


_CHEAP = (ps.Add, ps.Mul, ps.Sub, ps.Neg, ps.Abs, ps.Sqr, ps.Sign, ps.Identity, ps.Maximum,
          ps.Minimum, ps._Compare, ps._Bitwise, ps.Invert, ps.Switch, ps.Clip, ps.Second, ps.Cast)


def _scalar_expand(node) -> bool:
    """True for a DimShuffle giving a 0-d value broadcastable axes (a bias, 1/n)."""
    return isinstance(node.op, DimShuffle) and node.op.input_ndim == 0


def _loop_invariant(node) -> bool:
    """True for an elementwise node of 0-d values: computed once per loop, not per element."""
    return _fusable(node) and node.outputs[0].ndim == 0


def _cheap(node) -> bool:
    """True for an elementwise node worth recomputing in each consumer's loop."""
    if _scalar_expand(node):
        return True
    op = node.op.scalar_op
    if isinstance(op, Composite):
        return all(isinstance(n.op, _CHEAP) for n in op.fgraph.apply_nodes)
    return isinstance(op, _CHEAP)


def _scalar_constant(var):
    """A ScalarConstant for a constant with one element (inlined into the Composite), else None."""
    if isinstance(var, Constant) and np.asarray(var.data).size == 1 and all(var.type.broadcastable):
        return ps.scalar_constant(np.asarray(var.data).reshape(()), var.dtype)
    return None


def _grow(fgraph: FunctionGraph, root, position: dict) -> tuple[list, list]:
    """The nodes fused with ``root``: producers whose clients all lie in the group.

    Returns (group, extra): ``extra`` lists the group nodes whose output is a
    graph output too (the fused node returns it as well).

    Candidates are taken latest-first (by topological position), so every
    client a candidate could have in the group is decided before it: each
    node is looked at once.
    """
    group = {root}
    pattern = root.outputs[0].type.broadcastable
    heap: list = []

    def push(node):
        for var in node.inputs:
            p = var.owner
            if p is not None and p in position and p not in group:
                heapq.heappush(heap, (-position[p], id(var), var))

    push(root)
    decided = set()
    copied = set()  # group nodes whose original stays in the graph for readers outside
    extra: list = []  # group nodes whose output the fused node returns too
    outer = {v for v in root.inputs if _scalar_constant(v) is None}  # the fused node's inputs
    while heap:
        _, _, var = heapq.heappop(heap)
        p = var.owner
        if p in group or p in decided:
            continue
        decided.add(p)
        # 0-d values (and their broadcast views) are loop invariants: any group takes them
        scalar = var.ndim == 0 or _scalar_expand(p)
        if not (_fusable(p) and (scalar or var.type.broadcastable == pattern)
                or _scalar_expand(p) and p.inputs[0].owner is not None
                and _loop_invariant(p.inputs[0].owner)):
            continue
        clients = fgraph.clients.get(var, [])
        if not clients:
            continue
        readers = [c for c, _ in clients if c != "output"]
        if (len(readers) < len(clients) and p not in copied and len(extra) < MAX_OUTPUTS - 1
                and var.type.broadcastable == pattern and _fusable(p)
                and all(c in group and c not in copied for c in readers)):
            extra.append(p)  # read by the group and by graph outputs only: a second output
        elif any(c == "output" or c not in group or c in copied for c, _ in clients):
            # read outside the group too (or by a copy): only a cheap node read by
            # elementwise nodes alone is computed again here
            if not (_cheap(p) and all(c != "output" and _fusable(c) for c, _ in clients)):
                continue
            copied.add(p)
        new_outer = (outer - {var}) | {v for v in p.inputs if _scalar_constant(v) is None}
        if len(new_outer) > MAX_INPUTS:
            continue
        outer = new_outer
        group.add(p)
        push(p)
    return list(group), [p for p in extra if p in group]


def _build(fgraph, nodes, position, extra=()):
    """The Elemwise(Composite) outputs equivalent to ``nodes`` (a connected group): the root's,
    then those of the ``extra`` nodes, or None."""
    nodes = sorted(nodes, key=position.__getitem__)
    produced = {o for n in nodes for o in n.outputs}
    outer, inner = [], {}
    for n in nodes:
        for v in n.inputs:
            if v in produced or v in inner:
                continue
            c = _scalar_constant(v)
            if c is not None:
                inner[v] = c
            else:
                outer.append(v)
                inner[v] = ps.ScalarType(v.dtype)()
    if not outer or len(outer) > MAX_INPUTS:
        return None
    scalar_inputs = [inner[v] for v in outer]
    for n in nodes:
        if _scalar_expand(n):  # a broadcast view of a 0-d value: the same scalar inside
            inner[n.outputs[0]] = inner[n.inputs[0]]
            continue
        sop = n.op.scalar_op
        args = [inner[v] for v in n.inputs]
        if isinstance(sop, Composite):  # inline an earlier fusion
            (res,) = sop.rebuild(args, lambda op: op, scalar=True)
        else:
            res = sop.make_node(*args).outputs[0]
        inner[n.outputs[0]] = res
    olds = [nodes[-1].outputs[0]] + [n.outputs[0] for n in extra]
    comp = Composite(scalar_inputs, [inner[v] for v in olds])
    news = Elemwise(comp)(*outer)
    news = news if isinstance(news, (list, tuple)) else [news]
    if any(n.type.dtype != o.type.dtype or n.ndim != o.ndim for n, o in zip(news, olds)):
        return None
    return news


def fuse(fgraph: FunctionGraph) -> int:
    """Fuse elementwise trees; returns the number of fused nodes created."""
    order = fgraph.toposort()
    position = {n: k for k, n in enumerate(order)}
    done = 0
    consumed: set = set()
    for root in reversed(order):
        if root in consumed or root not in fgraph.apply_nodes or not _fusable(root):
            continue
        group, extra = _grow(fgraph, root, position)
        if len(group) < 2:
            continue
        news = _build(fgraph, group, position, extra)
        if news is None:
            continue
        consumed.update(group)
        olds = [root.outputs[0]] + [n.outputs[0] for n in extra]
        for new, old in zip(news, olds):
            copy_trace(new, old, fgraph)
            fgraph.replace(old, new, reason="fusion")
        done += 1
    return done + merge_siblings(fgraph)


def _unfused_scalar_graph(nodes):
    """(outer inputs, their scalar stand-ins, scalar outputs) of independent Elemwise ``nodes``."""
    outer, inner = [], {}
    for n in nodes:
        for v in n.inputs:
            if v not in inner:
                c = _scalar_constant(v)
                inner[v] = c if c is not None else ps.ScalarType(v.dtype)()
                if c is None:
                    outer.append(v)
    outs = []
    for n in nodes:
        sop, args = n.op.scalar_op, [inner[v] for v in n.inputs]
        if isinstance(sop, Composite):
            outs += sop.rebuild(args, lambda op: op, scalar=True)
        else:
            res = sop.make_node(*args).outputs
            outs += list(res)
    return outer, [inner[v] for v in outer], outs


def _reaches(fgraph, start, goal, position) -> bool:
    """True if a path of clients leads from node ``start`` to node ``goal``."""
    limit, stack, seen = position[goal], [start], set()
    while stack:
        node = stack.pop()
        for out in node.outputs:
            for c, _ in fgraph.clients.get(out, []):
                if c == goal:
                    return True
                if c != "output" and c not in seen and position.get(c, limit + 1) < limit:
                    seen.add(c)
                    stack.append(c)
    return False


def merge_siblings(fgraph: FunctionGraph) -> int:
    """Merge independent elementwise loops that read one full-size input; returns merges."""
    done = 0
    order = fgraph.toposort()
    candidates = list(fgraph.inputs) + [v for n in order for v in n.outputs]
    position = {n: k for k, n in enumerate(order)}
    for var in candidates:
        if var.owner is not None and var.owner not in fgraph.apply_nodes:
            continue
        if _merge_readers(fgraph, var, position):
            done += 1
            position = {n: k for k, n in enumerate(fgraph.toposort())}  # a true order again
    return done


def _merge_readers(fgraph, var, position) -> int:
    pattern = var.type.broadcastable
    readers = []
    for c, _ in fgraph.clients.get(var, []):
        if (c != "output" and c not in readers and c in fgraph.apply_nodes
                and isinstance(c.op, Elemwise) and not c.op.inplace_pattern
                and all(o.type.broadcastable == pattern for o in c.outputs)):
            readers.append(c)
    if len(readers) < 2:
        return 0
    readers.sort(key=position.__getitem__)
    group = [readers[0]]
    for c in readers[1:]:
        if (sum(len(n.outputs) for n in group) + len(c.outputs) > MAX_OUTPUTS
                or any(_reaches(fgraph, g, c, position) for g in group)):
            continue  # readers come in order: c cannot reach an earlier one
        group.append(c)
    if len(group) < 2:
        return 0
    outer, scalar_inputs, outs = _unfused_scalar_graph(group)
    # no small integers: a several-output numpy loop computes float ops of (u)int8/16 and
    # bool in numpy's own half or single precision, where the one-output kernels upcast
    if len(outer) > MAX_INPUTS or any(np.dtype(v.dtype).kind in "biu"
                                      and np.dtype(v.dtype).itemsize < 4 for v in outer):
        return 0
    olds = [o for n in group for o in n.outputs]
    news = Elemwise(Composite(scalar_inputs, outs))(*outer)
    news = news if isinstance(news, (list, tuple)) else [news]
    if any(n.type != o.type for n, o in zip(news, olds)):
        return 0
    for new, old in zip(news, olds):
        copy_trace(new, old, fgraph)
        fgraph.replace(old, new, reason="fusion")
    return 1
