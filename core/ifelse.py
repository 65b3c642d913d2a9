"""``ifelse``: a lazy conditional that computes only the branch it takes.

Each branch becomes an inner FunctionGraph over the outer variables it reads;
the IfElse node's inputs are the condition and those variables. Its kernel
holds both branches compiled (once) and runs one of them, so the other
branch's work is never done. Work a branch shares with the rest of the graph
is computed inside the branch again (the cut is at the graph's inputs).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .graph.basic import Apply, Constant, Op, Variable
from .graph.fg import FunctionGraph
from .graph.trace import format_trace, user_frame
from .graph.utils import clone_replace, graph_inputs
from .tensor.type import TensorType
from .tensor.variable import as_tensor_variable


class IfElse(Op):
    """``IfElse(then_fgraph, else_fgraph)(cond, *free_variables)``; build it with ``ifelse``."""

    def __init__(self, inner_inputs: Sequence[Variable], then_outputs: Sequence[Variable],
                 else_outputs: Sequence[Variable], name: str | None = None):
        self.then_fgraph = FunctionGraph(list(inner_inputs), list(then_outputs))
        self.else_fgraph = FunctionGraph(list(inner_inputs), list(else_outputs))
        self.name = name
        self._programs: dict = {}

    no_constant_folding = True  # lazy evaluation happens at run time
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def make_node(self, cond, *inputs) -> Apply:
        cond = as_tensor_variable(cond)
        if cond.ndim != 0:
            raise TypeError(f"{self}: the condition must be a scalar, got {cond.type}")
        for outer, inner in zip(inputs, self.then_fgraph.inputs):
            if outer.type.dtype != inner.type.dtype or outer.type.ndim != inner.type.ndim:
                raise TypeError(f"{self}: input {outer} ({outer.type}) does not match {inner.type}")
        outs = [_join_types(a.type, b.type)() for a, b in
                zip(self.then_fgraph.outputs, self.else_fgraph.outputs)]
        return Apply(self, [cond, *inputs], outs)

    def programs(self, backend: str, make_kernels):
        """Both branches, optimized and compiled by ``make_kernels(nodes) -> kernels``
        (cached per ``backend`` name)."""
        pair = self._programs.get(backend)
        if pair is None:
            from .compile.linker import Program
            from .config import config
            from .rewrite import optimize_graph

            pair = []
            for fg in (self.then_fgraph, self.else_fgraph):
                branch = FunctionGraph(fg.inputs, fg.outputs)
                optimize_graph(branch, config.mode)
                pair.append(Program(branch, None, len(branch.inputs), len(branch.outputs),
                                    make_kernels=make_kernels))
            self._programs[backend] = pair = tuple(pair)
        return pair

    def L_op(self, inputs, outputs, output_grads):
        from .gradient import grad

        cond, outer = inputs[0], list(inputs[1:])
        wrt = [v for v in outer if np.dtype(v.type.dtype).kind in "fc"]
        if not wrt:
            return [None] * len(inputs)
        branch_grads = []
        for fg in (self.then_fgraph, self.else_fgraph):
            outs, _ = clone_replace(fg.outputs, replace=dict(zip(fg.inputs, outer)))
            known: dict = {}
            for o, g in zip(outs, output_grads):
                if np.dtype(o.type.dtype).kind in "fc":
                    known[o] = known[o] + g if o in known else g
            if not known:
                return [None] * len(inputs)
            branch_grads.append(grad(None, wrt, known_grads=known, disconnected_inputs="ignore"))
        grads = ifelse(cond, branch_grads[0], branch_grads[1], name=f"grad_{self.name or ''}")
        grads = iter(grads if isinstance(grads, list) else [grads])
        return [None] + [next(grads) if v in wrt else None for v in outer]

    def __str__(self) -> str:
        return f"IfElse{{{self.name}}}" if self.name else "IfElse"


def _join_types(a: TensorType, b: TensorType) -> TensorType:
    return TensorType(a.dtype, tuple(x if x == y else None for x, y in zip(a.shape, b.shape)))


def ifelse(condition, then_branch, else_branch, name: str | None = None):
    """``then_branch`` if ``condition`` (a scalar) is nonzero, else ``else_branch``.

    Only the chosen branch is computed. Branches are variables or lists of
    variables, pairwise of the same dtype and rank.

    Examples
    --------
    >>> a, b = T.dmatrices('a', 'b'); x, y = T.dscalars('x', 'y')
    >>> z = ifelse(T.lt(x, y), T.mean(a), T.mean(b))  # computes only one mean
    """
    where = format_trace(user_frame())
    single = not isinstance(then_branch, (list, tuple))
    thens = [then_branch] if single else list(then_branch)
    elses = [else_branch] if not isinstance(else_branch, (list, tuple)) else list(else_branch)
    if len(thens) != len(elses):
        raise ValueError(f"ifelse: the then branch has {len(thens)} outputs and the else branch "
                         f"{len(elses)}, at {where}")
    thens = [as_tensor_variable(v) for v in thens]
    elses = [as_tensor_variable(v) for v in elses]
    for k, (t, e) in enumerate(zip(thens, elses)):
        if t.dtype != e.dtype or t.ndim != e.ndim:
            raise TypeError(f"ifelse: output {k} is {t.type} in the then branch but {e.type} in "
                            f"the else branch; cast them to one dtype and rank, at {where}")
    cond = as_tensor_variable(condition)
    if cond.ndim != 0:
        raise TypeError(f"ifelse: the condition must be a scalar, got {cond.type}, at {where}")
    free = [v for v in graph_inputs(thens + elses) if not isinstance(v, Constant)]
    phs = [v.type(v.name) for v in free]
    replace = dict(zip(free, phs))
    then_inner, _ = clone_replace(thens, replace=replace)
    else_inner, _ = clone_replace(elses, replace=replace)
    op = IfElse(phs, then_inner, else_inner, name)
    out = op(cond, *free)
    if single:
        return out
    return out if isinstance(out, list) else [out]


__all__ = ["ifelse", "IfElse"]
