"""Inplace: an Elemwise node may write its output into an input's buffer.

Allowed when that input is an intermediate result (not a graph input, a
shared value or a constant) read by this node alone, made by an op that
returns a fresh buffer (not a view), with the output's exact static shape and
dtype. A node with several outputs (a fused update loop) writes each into a
different input.

A shared value whose update this node computes (``function(updates=...)``, listed in
``fgraph.update_of``) may be overwritten by that update, as Theano's updates are: when
every other reader of the old value, directly or through a view, runs before the node
(is one of its ancestors), neither value nor a view of it is also a returned output (the
caller would hold a buffer the next call overwrites), and the node itself reads the old
value only as an elementwise loop at the same position (not through a view such as
``w[0]`` or ``w.T``, whose elements it would read after writing them, and not as an
operand of a Gemm's product, which BLAS may not alias). A training step
then updates its parameters and optimizer slots in place: no second buffer per weight,
and no memory traffic to fetch one. A Gemm may also accumulate into a shared ``z`` whose
update its only reader, an elementwise node, computes from the Gemm's result: that
reader then writes the update back into the same buffer (a momentum step after
``local_gemm_unit_beta``).

``ReluBiasGrad`` (the ReLU mask of a conv layer's gradient) may write into its gradient
input when that is the fresh result of a convolution's input gradient or a pooling
gradient (or an elementwise product ...), read through views (the channels-last
dimshuffle) by this node alone.
"""
from __future__ import annotations

from ..graph.fg import FunctionGraph
from ..tensor.blas import Gemm
from ..tensor.conv import Conv2dGradInputs, ReluBiasGrad
from ..tensor.elemwise import Elemwise
from ..tensor.math import CAReduce, Dot
from ..tensor.rewritten_ops import DotElemwiseDot
from ..tensor.signal.pool import AveragePoolGrad, MaxPoolGrad
from .engine import copy_trace

# Ops whose kernels return a freshly allocated array (never a view of an input).
FRESH_OUTPUT_OPS = (Elemwise, Dot, CAReduce, DotElemwiseDot, Gemm)
# Gradient ops whose kernels return a fresh array too, that ReluBiasGrad may overwrite.
FRESH_GRADIENT_OPS = (Conv2dGradInputs, AveragePoolGrad, MaxPoolGrad)


def _can_destroy(fgraph: FunctionGraph, node, i: int, k: int = 0) -> bool:
    var, out = node.inputs[i], node.outputs[k]
    owner = var.owner
    if owner is None or var in fgraph.inputs or not isinstance(owner.op, FRESH_OUTPUT_OPS):
        return False
    if owner.op.view_map or var.type.shape != out.type.shape or var.dtype != out.dtype:
        return False
    clients = fgraph.clients.get(var, [])
    return len(clients) == 1 and clients[0] == (node, i)


def _sole_reader_of_fresh(fgraph: FunctionGraph, node, i: int) -> bool:
    """True when input ``i`` of ``node`` is a fresh intermediate buffer, maybe seen through
    views (a dimshuffle), that nothing but ``node`` reads."""
    var, reader = node.inputs[i], (node, i)
    while True:
        clients = fgraph.clients.get(var, [])
        owner = var.owner
        if len(clients) != 1 or clients[0] != reader or owner is None or var in fgraph.inputs:
            return False
        if owner.op.view_map:
            if owner.op.view_map != {0: [0]} or owner.op.destroy_map:
                return False
            var, reader = owner.inputs[0], (owner, 0)
            continue
        return isinstance(owner.op, FRESH_OUTPUT_OPS + FRESH_GRADIENT_OPS)


def _ancestors(node) -> set:
    seen, stack = set(), [node]
    while stack:
        for v in stack.pop().inputs:
            if v.owner is not None and v.owner not in seen:
                seen.add(v.owner)
                stack.append(v.owner)
    return seen


def _runs_after(fgraph: FunctionGraph, node, target) -> bool:
    """True when ``target`` must run after ``node`` (reads its outputs, or is ordered after
    it), so that ordering ``node`` after ``target`` would be a cycle."""
    after: dict = {}
    for n, before in fgraph.orderings.items():
        for b in before:
            after.setdefault(b, []).append(n)
    seen, stack = set(), [node]
    while stack:
        n = stack.pop()
        nexts = [c for out in n.outputs for c, _ in fgraph.clients.get(out, []) if c != "output"]
        for c in nexts + after.get(n, []):
            if c is target:
                return True
            if c not in seen:
                seen.add(c)
                stack.append(c)
    return False


def _returned(fgraph: FunctionGraph, var, index: int) -> bool:
    """True when ``var``, or a view of it, is a returned output other than output ``index``:
    the caller would hold a buffer that the next call overwrites."""
    stack = [var]
    while stack:
        for client, j in fgraph.clients.get(stack.pop(), []):
            if client == "output":
                if j != index:
                    return True
                continue
            vmap = getattr(client.op, "view_map", {})
            stack += [client.outputs[o] for o, ins in vmap.items() if j in ins]
    return False


def _can_overwrite_shared(fgraph: FunctionGraph, node, i: int, k: int, ancestors,
                          update=None):
    """The readers to order before ``node`` (a set, maybe empty) when output ``k`` is the
    update of shared input ``i`` (or becomes it in place: ``update``) and may overwrite it;
    None when it may not."""
    var, out = node.inputs[i], node.outputs[k] if update is None else update
    index = getattr(fgraph, "update_of", {}).get(var)
    if index is None or fgraph.outputs[index] is not out:
        return None
    if var.type.shape != out.type.shape or var.dtype != out.dtype:
        return None
    if _returned(fgraph, out, index):
        return None  # returned too: the caller would hold the shared buffer
    later = set()  # every reader of the old value, through views too, must run before
    stack = [var]
    while stack:
        read = stack.pop()
        for client, j in fgraph.clients.get(read, []):
            if client == "output":
                return None
            if client is node:
                # Reading the buffer it overwrites is safe only for an elementwise loop
                # reading it as it is (each element read before it is written), not through
                # a view (a row, a reversal) nor in a product (BLAS forbids aliasing).
                if read is var and (j == i or isinstance(node.op, Elemwise)):
                    continue
                return None
            if client not in ancestors():
                if _runs_after(fgraph, node, client):
                    return None
                later.add(client)
            vmap = getattr(client.op, "view_map", {})
            stack += [client.outputs[o] for o, ins in vmap.items() if j in ins]
    return later


def _swap(fgraph: FunctionGraph, node, new, before, renamed: dict) -> int:
    """Put ``new`` (the inplace version of ``node``) in its place, after ``before``."""
    if any(n.type != o.type for n, o in zip(new.outputs, node.outputs)):
        return 0
    for n, o in zip(new.outputs, list(node.outputs)):
        copy_trace(n, o, fgraph)
        fgraph.replace(o, n, reason="inplace")
    renamed[node] = new
    if before:
        fgraph.orderings[new] = list(before)
    return 1


def _update_made_from(fgraph: FunctionGraph, result, var):
    """The update of shared ``var`` when an elementwise node, the only reader of ``result``,
    computes it from ``result`` with its shape and dtype (so that it can be written into
    ``result``'s buffer); else None. A momentum step's ``v = 0.9 * Gemm(v, -lr / 0.9, ...)``
    is one (local_gemm_unit_beta)."""
    clients = fgraph.clients.get(result, [])
    index = getattr(fgraph, "update_of", {}).get(var)
    if (index is None or len(clients) != 1 or clients[0][0] == "output"
            or not isinstance(clients[0][0].op, Elemwise)):
        return None
    update = fgraph.outputs[index]
    if (update in clients[0][0].outputs and update.type.shape == result.type.shape
            and update.dtype == result.dtype):
        return update
    return None


def _gemm_inplace(fgraph: FunctionGraph, node, renamed: dict) -> int:
    """Gemm accumulating into z's own buffer, when z may be overwritten: z's update is this
    result, or an elementwise reader turns this result into it (in place, later)."""
    ancestors = lambda: _ancestors(node)  # noqa: E731
    later = _can_overwrite_shared(fgraph, node, 0, 0, ancestors)
    if later is None:
        update = _update_made_from(fgraph, node.outputs[0], node.inputs[0])
        if update is not None:
            later = _can_overwrite_shared(fgraph, node, 0, 0, ancestors, update)
    if later is None and not _can_destroy(fgraph, node, 0, 0):
        return 0
    return _swap(fgraph, node, Gemm(inplace=True).make_node(*node.inputs), later, renamed)


def insert_inplace(fgraph: FunctionGraph) -> int:
    """Turn eligible Elemwise nodes into their inplace versions; returns how many."""
    done = 0
    renamed: dict = {}  # node -> its inplace version (the orderings name nodes)
    for node in fgraph.toposort():
        op = node.op
        if isinstance(op, Gemm) and not op.inplace and node in fgraph.apply_nodes:
            done += _gemm_inplace(fgraph, node, renamed)
            continue
        if isinstance(op, ReluBiasGrad):
            if not op.inplace and _sole_reader_of_fresh(fgraph, node, 1):
                new = ReluBiasGrad(inplace=True).make_node(*node.inputs)
                done += _swap(fgraph, node, new, None, renamed)
            continue
        if (not isinstance(op, Elemwise) or op.inplace_pattern
                or node not in fgraph.apply_nodes):
            continue
        pattern: dict = {}  # each output into a different input's buffer
        before: set = set()  # readers of overwritten shared values, to run first
        cache: list = []

        def ancestors(node=node, cache=cache):
            if not cache:
                cache.append(_ancestors(node))
            return cache[0]

        for k in range(len(node.outputs)):
            for i in range(len(node.inputs)):  # an update first overwrites its own variable
                later = None if i in pattern.values() else _can_overwrite_shared(
                    fgraph, node, i, k, ancestors)
                if later is not None:
                    pattern[k] = i
                    before |= later
                    break
            else:
                for i in range(len(node.inputs)):
                    if i not in pattern.values() and _can_destroy(fgraph, node, i, k):
                        pattern[k] = i
                        break
        if not pattern:
            continue
        new = Elemwise(op.scalar_op, pattern, name=op.name).make_node(*node.inputs)
        done += _swap(fgraph, node, new, before, renamed)
    if fgraph.orderings:  # readers made inplace after they were named
        fgraph.orderings = {renamed.get(n, n): [renamed.get(b, b) for b in before]
                            for n, before in fgraph.orderings.items()}
        fgraph._order = None
    return done
