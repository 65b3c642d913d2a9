"""Move loop-invariant work out of a scan step.

A node of the step whose inputs come from no per-step value (sequence slices,
recurrent values, shared states) computes the same thing at every step: it is
computed once, outside the loop, and fed to the step as a non-sequence.
Nodes with side effects (``keep_node``, like Print) stay in the step.
"""
from __future__ import annotations

from typing import Sequence

from ..graph.basic import Variable
from ..graph.utils import clone_replace, graph_inputs, toposort


def hoist_invariants(step_inputs: Sequence[Variable], inner_outs: list[Variable],
                     nonseq_inner: list[Variable], nonseq_outer: list[Variable]):
    """Return ``(inner_outs, nonseq_inner, nonseq_outer)`` with invariant work moved out.

    ``step_inputs`` are the placeholders that change from step to step;
    ``nonseq_inner[k]`` is the placeholder of the outer variable ``nonseq_outer[k]``.
    """
    variant = {id(v) for v in step_inputs}
    hoist: dict[int, Variable] = {}
    nodes = toposort(inner_outs)
    for node in nodes:
        if getattr(node.op, "keep_node", False) or any(id(i) in variant for i in node.inputs):
            variant.update(id(o) for o in node.outputs)
    for node in nodes:
        if any(id(o) in variant for o in node.outputs):
            for i in node.inputs:
                if i.owner is not None and id(i) not in variant:
                    hoist.setdefault(id(i), i)
    for out in inner_outs:
        if out.owner is not None and id(out) not in variant:
            hoist.setdefault(id(out), out)
    if not hoist:
        return inner_outs, nonseq_inner, nonseq_outer
    invariant = list(hoist.values())
    to_outer = dict(zip(nonseq_inner, nonseq_outer))
    outer_exprs, _ = clone_replace(invariant, replace=to_outer)
    new_phs = [v.type(v.name) for v in invariant]
    inner_outs, _ = clone_replace(inner_outs, replace=dict(zip(invariant, new_phs)))
    # Drop the non-sequences only the hoisted work read.
    used = {id(v) for v in graph_inputs(inner_outs)}
    pairs = [(i, o) for i, o in zip(nonseq_inner + new_phs, nonseq_outer + outer_exprs)
             if id(i) in used]
    return inner_outs, [i for i, _ in pairs], [o for _, o in pairs]
