"""The gradient of a ScanGrad: its backward loop rewritten as an ordinary scan.

ScanGrad runs the step's vector-Jacobian product from the last step to the
first, accumulating in place, which is fast but has no gradient of its own.
For second-order derivatives (hessians, R-ops through a loop), the same
computation is written here as a plain ``scan`` over the reversed steps, whose
gradient is again a Scan gradient. Per step it reads the step's inputs and
outputs and the cotangents (as sequences, reversed), and carries, per
recurrent output looking ``m`` steps back, the ``m`` pending gradients of the
rows behind it.
"""
from __future__ import annotations

import numpy as np

from ..graph.utils import clone_replace


def backward_as_scan(op, inputs) -> list:
    """Symbolic outputs equal to those of the ScanGrad node ``op(*inputs)``."""
    from .builder import scan
    from .. import tensor as T

    info = op.info
    if info.truncate_gradient >= 0:
        raise NotImplementedError(f"{op}: no second-order gradient with truncate_gradient")
    n_fwd = info.n_outer_inputs()
    _, seqs, inits, _, nonseqs = info.split_outer(inputs[:n_fwd])
    n_states, n_nit, n_shared = info.n_states, info.n_nitsot, info.n_shared
    rest = list(inputs[n_fwd:])
    main_outs = rest[:n_states + n_nit]
    traces = rest[n_states + n_nit:n_states + n_nit + n_shared]
    cots = iter(rest[n_states + n_nit + n_shared:])
    state_cots = [next(cots) if m else None for m in op.cot_mask[:n_states]]
    nit_cots = [next(cots) if m else None for m in op.cot_mask[n_states:]]
    n = T.shape(main_outs[0])[0]
    mts = info.max_taps()
    seq_mask = op.wrt_mask[:info.n_seqs]
    state_mask = op.wrt_mask[info.n_seqs:info.n_seqs + n_states]
    nonseq_mask = op.wrt_mask[info.n_seqs + n_states:]

    def rev(x):
        return x[::-1]

    # Per-step values, in the order of the inner graph's inputs, as reversed sequences.
    fwd_seqs = [s[::-1] if info.go_backwards else s for s in seqs]
    per_step = []
    for s, taps in zip(fwd_seqs, info.seq_taps):
        per_step += [rev(s[k - min(taps):k - min(taps) + n]) for k in taps]
    tails = [init[T.shape(init)[0] - mt:] for init, mt in zip(inits, mts)]
    buffers = [T.concatenate([tail, out]) for tail, out in zip(tails, main_outs[:n_states])]
    for buf, taps, mt in zip(buffers, info.state_taps, mts):
        per_step += [rev(buf[mt + k:mt + k + n]) for k in taps]
    per_step += [rev(tr) for tr in traces] + [rev(o) for o in main_outs]
    per_step += [rev(c) for c in state_cots if c is not None]
    per_step += [rev(c) for c in nit_cots if c is not None]
    n_seq_vals = len(per_step)
    carried = [j for j in range(n_states) if state_mask[j]]
    n_carry = sum(mts[j] for j in carried)
    fg = op.fgraph
    n_tap_in = sum(map(len, info.seq_taps)) + sum(map(len, info.state_taps))

    def step(*args):
        vals = list(args[:n_seq_vals])
        carries = list(args[n_seq_vals:n_seq_vals + n_carry])
        ns = list(args[n_seq_vals + n_carry:])
        fwd_in = vals[:n_tap_in + n_shared] + ns
        outs_in = vals[n_tap_in + n_shared:n_tap_in + n_shared + len(main_outs)]
        cot_vals = vals[n_tap_in + n_shared + len(main_outs):]
        pending = {}
        pos = 0
        for j in carried:
            pending[j] = carries[pos:pos + mts[j]]  # pending[j][k-1]: row t-k's gradient
            pos += mts[j]
        cot_in, c = [], iter(cot_vals)
        for j in range(n_states):
            if op.cot_mask[j]:
                cot_in.append(next(c) + pending[j][0] if j in pending else next(c))
        cot_in += list(c)
        inner_vals = fwd_in + outs_in + cot_in
        grads = iter(clone_replace(fg.outputs, replace=dict(zip(fg.inputs, inner_vals)))[0])
        seq_grads = []
        for m, taps in zip(seq_mask, info.seq_taps):
            if m:
                seq_grads += [next(grads) for _ in taps]
        new_carries = []
        for j, (m, taps) in enumerate(zip(state_mask, info.state_taps)):
            if not m:
                continue
            tap_grads = {k: next(grads) for k in taps}
            mt = mts[j]
            for k in range(1, mt + 1):
                nxt = pending[j][k] if k < mt else None
                g = tap_grads.get(-k)
                terms = [t for t in (nxt, g) if t is not None]
                new_carries.append(terms[0] + terms[1] if len(terms) == 2 else
                                   terms[0] if terms else T.zeros_like(pending[j][0]))
        nonseq_grads = [next(grads) for m in nonseq_mask if m]
        return new_carries + seq_grads + nonseq_grads

    carry_init = [T.zeros_like(inits[j][0]) for j in carried for _ in range(mts[j])]
    outputs_info = carry_init + [None] * (sum(len(t) for m, t in zip(seq_mask, info.seq_taps) if m)
                                          + sum(nonseq_mask))
    res, _ = scan(step, sequences=per_step, outputs_info=outputs_info,
                  non_sequences=list(nonseqs), n_steps=n, return_list=True, mode=op.mode)
    res = iter(res)
    carry_out = [next(res) for _ in range(n_carry)]
    results = []
    for s, m, taps in zip(fwd_seqs, seq_mask, info.seq_taps):
        if m:
            d = T.zeros_like(s)
            for k in taps:
                off = k - min(taps)
                d = T.inc_subtensor(d[off:off + n], rev(next(res)))
            results.append(d[::-1] if info.go_backwards else d)
    pos = 0
    for j in carried:
        d = T.zeros_like(inits[j])
        for k in range(1, mts[j] + 1):
            d = T.set_subtensor(d[T.shape(inits[j])[0] - k], carry_out[pos + k - 1][-1])
        pos += mts[j]
        results.append(d)
    for m in nonseq_mask:
        if m:
            results.append(T.sum(next(res), axis=0))
    return results


def scan_grad_grad(op, inputs, outputs, output_grads) -> list:
    """Gradient of a ScanGrad node, through its equivalent ordinary scan.

    The equivalent is built on stand-ins for the node's inputs, so that the
    gradient with respect to each input is only its direct part (the inputs
    include the forward loop's outputs, whose own dependence on the forward
    inputs the caller's backpropagation already follows).
    """
    from ..gradient import grad

    stand_ins = [v.type(v.name) for v in inputs]
    equivalent = backward_as_scan(op, stand_ins)
    known = {e: g for e, g in zip(equivalent, output_grads)}
    wrt = [k for k, v in enumerate(inputs) if np.dtype(v.type.dtype).kind in "fc"]
    grads = grad(None, [stand_ins[k] for k in wrt], known_grads=known,
                 disconnected_inputs="ignore", return_disconnected="none")
    back = dict(zip(stand_ins, inputs))
    result = [None] * len(inputs)
    for k, g in zip(wrt, grads):
        result[k] = None if g is None else clone_replace([g], replace=back)[0][0]
    return result
