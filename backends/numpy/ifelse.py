"""IfElse kernel: runs only the compiled branch the condition selects."""
from __future__ import annotations

from core.ifelse import IfElse

from . import registry
from .scan import compile_inner


@registry.register(IfElse)
def ifelse_kernel(node):
    then_run, else_run = (p.run_trusted for p in compile_inner(node.op.programs))
    single = node.nout == 1

    def kernel(cond, *inputs):
        outs = (then_run if cond else else_run)(*inputs)
        return outs[0] if single else tuple(outs)

    return kernel
