"""The gradient of a Scan: a ScanGrad loop over the step's vector-Jacobian product."""
from __future__ import annotations

import numpy as np

from ..graph.utils import clone_replace
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
    inner_grads, _ = clone_replace(inner_grads, replace=dict(zip(main_outs, out_phs)))
    gop = ScanGrad(list(fg.inputs) + out_phs + cots, inner_grads, info, cot_mask, wrt_mask,
                   op.name, op.mode)

    n_states = info.n_states
    n_shared = info.n_shared
    traces = outputs[n_main + n_shared:]
    cot_outer = [g for g, m in zip(output_grads[:n_main], cot_mask) if m]
    results = gop(*inputs, *outputs[:n_main], *traces, *cot_outer)
    results = iter(results if isinstance(results, list) else [results])
    per_input = [next(results) if m else None for m in wrt_mask]
    n_seq = info.n_seqs
    return ([None] + per_input[:n_seq + n_states] + [None] * n_shared
            + per_input[n_seq + n_states:])
