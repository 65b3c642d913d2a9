"""Scan rewrites: drop the gradients a ScanGrad computes that nothing reads; run a
loop once when its twin that stores residuals for the gradient is also there."""
from __future__ import annotations

from ..rewrite.engine import register
from .op import Scan, ScanGrad


@register("canonicalize", Scan, tags=("scan",))
def scan_use_twin(fgraph, node):
    """A Scan whose residual twin (``grad.residual_twin``) runs on the same inputs in the
    same function: read the twin's outputs instead of running the loop twice."""
    op = node.op
    for client, _ in fgraph.clients.get(node.inputs[0], []):
        if (client != "output" and getattr(client.op, "twin_of", None) is op
                and all(a is b for a, b in zip(client.inputs, node.inputs))):
            n_main = op.info.n_states + op.info.n_nitsot
            skip = client.op.n_residuals
            return {out: client.outputs[k if k < n_main else k + skip]
                    for k, out in enumerate(node.outputs)}
    return None


def _inner_output_groups(op: ScanGrad) -> list[tuple[str, int]]:
    """For each outer output of ``op``: (kind, number of inner outputs it sums)."""
    info = op.info
    kinds = ([("seq", len(t)) for t in info.seq_taps] + [("state", len(t)) for t in info.state_taps]
             + [("nonseq", 1)] * info.n_nonseq)
    return [k for k, m in zip(kinds, op.wrt_mask) if m]


@register("specialize", ScanGrad, tags=("scan",))
def scan_grad_prune_unused(fgraph, node):
    """Stop computing the gradient of a sequence or non-sequence nobody uses
    (say, the input sequence of an RNN when only the weights' gradients are asked).
    Recurrent outputs' gradients stay: they carry the gradient back through time."""
    op = node.op
    groups = _inner_output_groups(op)
    unused = [not fgraph.clients.get(out) and kind != "state"
              for out, (kind, _) in zip(node.outputs, groups)]
    if not any(unused):
        return None
    keep_inner, pos = [], 0
    for (kind, n), drop in zip(groups, unused):
        if not drop:
            keep_inner += op.fgraph.outputs[pos:pos + n]
        pos += n
    drops = iter(unused)
    wrt_mask = [m and not next(drops) for m in op.wrt_mask]
    new_op = ScanGrad(op.fgraph.inputs, keep_inner, op.info, op.cot_mask, wrt_mask, op.name,
                      op.mode)
    new_outs = new_op.make_node(*node.inputs).outputs
    kept = iter(new_outs)
    return {out: next(kept) for out, drop in zip(node.outputs, unused) if not drop}
