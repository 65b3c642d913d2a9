"""numpy evaluation of a Composite's inner scalar graph over whole arrays."""
from __future__ import annotations

import numpy as np


def composite_impl(op):
    """A function of arrays computing ``op``'s outputs (a tuple when it has several).

    The inner graph is compiled once into a flat list of steps over numbered
    slots (inputs, constants, then each inner node's output); a call fills the
    slots in order, so it does no graph walking.
    """
    from core.tensor.scalar_ops import Switch

    from .scalar import scalar_impl

    slots: dict[int, int] = {id(v): k for k, v in enumerate(op.inputs)}
    constants: dict[int, object] = {}

    def slot(v):
        if id(v) not in slots:  # a constant, kept as a numpy scalar of its dtype
            slots[id(v)] = len(slots)
            constants[slots[id(v)]] = np.asarray(v.data, dtype=v.type.dtype)[()]
        return slots[id(v)]

    steps = []
    for node in op.fgraph.toposort():
        ins = tuple(slot(v) for v in node.inputs)
        out = len(slots)
        slots[id(node.outputs[0])] = out
        dtype = np.dtype(node.outputs[0].type.dtype)
        steps.append((scalar_impl(node.op), ins, out, dtype))
    outs = tuple(slot(v) for v in op.outputs)
    size, nin = len(slots), op.nin
    template = [None] * size
    for k, c in constants.items():
        template[k] = c

    # numpy has no lazy select: both branches of a switch are computed everywhere, and the
    # values the switch discards (a guarded 0 / 0: the mean over a process's empty slice
    # of a batch) must not warn; nor must steps run on the broadcast size-1 inputs of an
    # empty result
    selects = any(isinstance(node.op, Switch) for node in op.fgraph.toposort())

    def run(*inputs):
        if selects or any(np.size(x) == 0 for x in inputs):
            with np.errstate(all="ignore"):
                return evaluate(inputs)
        return evaluate(inputs)

    def evaluate(inputs):
        vals = list(template)
        vals[:nin] = inputs
        for fn, ins, out, dtype in steps:
            res = fn(*[vals[i] for i in ins])
            if res.dtype != dtype:  # numpy may upcast where the scalar op's rule does not
                res = res.astype(dtype)
            vals[out] = res
        return vals[outs[0]] if len(outs) == 1 else tuple(vals[o] for o in outs)

    return run
