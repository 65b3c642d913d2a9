"""The gradient of a Scan: a ScanGrad loop over the step's vector-Jacobian product.

The backward step reads the forward step's intermediate values (a gate's
activation, a product); instead of computing them again, the forward loop
stores them: the gradient asks for a twin of the Scan, the same loop with those
values as extra outputs ("residuals"), and the rewrite ``scan_use_twin`` makes
the function run only the twin when both are in the graph. A function without
the gradient keeps the plain loop.
"""
from __future__ import annotations

from dataclasses import replace as _replace

import numpy as np

from ..graph.utils import clone_replace, toposort
from ..tensor.elemwise import DimShuffle
from ..tensor.join import Split
from ..tensor.shape_ops import Reshape, Shape, Shape_i
from .op import Scan, ScanGrad


def _differentiable(v) -> bool:
    return np.dtype(v.type.dtype).kind in "fc"


def scan_grad(op: Scan, inputs, outputs, output_grads) -> list:
    """Gradients of a Scan node's outer inputs (None for n_steps, shared and integer inputs).

    The step's VJP is built once, symbolically: inner gradients with respect to
    every tap of the differentiable sequences and recurrent outputs and to the
    non-sequences, given a cotangent per differentiable output. ScanGrad runs it
    from the last step back to the first (backpropagation through time).
    """
    from ..gradient import grad

    info = op.info
    fg = op.fgraph
    n_main = info.n_states + info.n_nitsot
    main_outs = fg.outputs[:n_main]
    cot_mask = [_differentiable(o) for o in main_outs]
    _, seqs, inits, shared, nonseqs = info.split_outer(inputs)
    wrt_mask = [_differentiable(v) for v in seqs + inits + nonseqs]
    if not any(cot_mask) or not any(wrt_mask):
        return [None] * len(inputs)

    groups, pos = [], 0
    for taps in info.seq_taps + info.state_taps:
        groups.append(fg.inputs[pos:pos + len(taps)])
        pos += len(taps)
    pos += info.n_shared
    groups += [[v] for v in fg.inputs[pos:]]
    inner_wrt = [v for group, m in zip(groups, wrt_mask) if m for v in group]

    cots = [o.type(f"d_{o.name}" if o.name else None) for o, m in zip(main_outs, cot_mask) if m]
    known: dict = {}
    for o, c in zip([o for o, m in zip(main_outs, cot_mask) if m], cots):
        known[o] = known[o] + c if o in known else c
    inner_grads = grad(None, inner_wrt, known_grads=known, disconnected_inputs="ignore")
    # The gradient may read the step's outputs (tanh's derivative reads tanh): feed it the
    # values the forward loop stored instead of computing them again.
    out_phs = [o.type(o.name) for o in main_outs]
    residuals = step_residuals(fg, main_outs, inner_grads)
    res_phs = [r.type(r.name) for r in residuals]
    inner_grads, _ = clone_replace(inner_grads, replace=dict(zip(main_outs + residuals,
                                                                 out_phs + res_phs)))
    if residuals:
        op, outputs = residual_twin(op, inputs, residuals)
        info = op.info
        cot_mask += [False] * len(residuals)
    n_main_run = n_main + len(residuals)
    gop = ScanGrad(list(fg.inputs) + out_phs + res_phs + cots, inner_grads, info, cot_mask,
                   wrt_mask, op.name, op.mode)

    n_states = info.n_states
    n_shared = info.n_shared
    traces = outputs[n_main_run + n_shared:]
    cot_outer = [g for g, m in zip(output_grads[:n_main], cot_mask) if m]
    results = gop(*inputs, *outputs[:n_main_run], *traces, *cot_outer)
    results = iter(results if isinstance(results, list) else [results])
    per_input = [next(results) if m else None for m in wrt_mask]
    n_seq = info.n_seqs
    return ([None] + per_input[:n_seq + n_states] + [None] * n_shared
            + per_input[n_seq + n_states:])


def _cheap(var, memo: dict) -> bool:
    """True for a shape computation (integers from shapes): recomputed, never stored."""
    key = id(var)
    if key not in memo:
        node = var.owner
        if node is None:
            memo[key] = True
        elif isinstance(node.op, (Shape, Shape_i)):
            memo[key] = True
        else:
            memo[key] = (np.dtype(var.type.dtype).kind in "iub"
                         and all(_cheap(i, memo) for i in node.inputs))
    return memo[key]


# Ops the backward step computes again rather than read from memory: views and shapes.
# (Recomputing elementwise work too, say an LSTM's gates from its stored product, was
# measured slower: the gates then feed several gradient loops, which cannot fuse.)
_RECOMPUTED = (DimShuffle, Reshape, Split, Shape, Shape_i)


def step_residuals(fg, main_outs: list, inner_grads: list) -> list:
    """The forward step's intermediate values that the backward step reads from memory
    (in order): those its nodes read, except the step's inputs and outputs (read as
    before), views (the value below them is stored) and shape computations (redone)."""
    forward = set(fg.apply_nodes)
    skip = {id(v) for v in main_outs}
    memo: dict = {}
    found: dict = {}
    visited: set = set()

    def frontier(v):
        if id(v) in skip or id(v) in visited or v.owner not in forward or _cheap(v, memo):
            return
        visited.add(id(v))
        if isinstance(v.owner.op, _RECOMPUTED):
            for i in v.owner.inputs:
                frontier(i)
        else:
            found[id(v)] = v

    for node in toposort(inner_grads, stop=list(fg.inputs)):
        if node not in forward:
            for v in node.inputs:
                frontier(v)
    return list(found.values())


def residual_twin(op: Scan, inputs, residuals: list):
    """``(twin op, twin node's outputs)``: ``op``'s loop that also outputs ``residuals``
    (inner variables of ``op.fgraph``) as nit-sot outputs after its own."""
    info = op.info
    fg = op.fgraph
    n_main = info.n_states + info.n_nitsot
    outs = fg.outputs[:n_main] + list(residuals) + fg.outputs[n_main:]
    twin = Scan(fg.inputs, outs, _replace(info, n_nitsot=info.n_nitsot + len(residuals)),
                op.name, op.mode)
    twin.twin_of = op
    twin.n_residuals = len(residuals)
    return twin, twin.make_node(*inputs).outputs
