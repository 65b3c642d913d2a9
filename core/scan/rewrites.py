"""Scan rewrites: drop the gradients a ScanGrad computes that nothing reads."""
from __future__ import annotations

from ..rewrite.engine import register
from .op import ScanGrad


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
