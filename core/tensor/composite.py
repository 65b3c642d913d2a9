"""Composite: a fused elementwise expression, a scalar op holding a graph of scalar ops.

``Elemwise(Composite(inputs, outputs))`` is the node the fusion rewrite builds,
so that a backend can run a whole elementwise tree as one loop. As in Theano,
the inner graph is exposed as ``op.fgraph`` (a ``FunctionGraph`` of ``Apply``
nodes of ``ScalarOp``s over ``ScalarVariable`` inputs, possibly reading
``ScalarConstant``s).

Examples
--------
>>> from core.tensor import scalar_ops as ps
>>> a = ps.ScalarType('float64')('a')
>>> c = Composite([a], [ps.add(a, ps.pow(a, ps.scalar_constant(10, 'float64')))])
>>> str(c)
'Composite{(i0 + (i0 ** 10.0))}'
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..graph.basic import Apply, Variable
from ..graph.fg import FunctionGraph
from . import scalar_ops as ps


class Composite(ps.ScalarOp):
    """A scalar op defined by a graph of scalar ops from ``inputs`` to ``outputs``.

    Parameters
    ----------
    inputs : ownerless ``ScalarVariable``s, the inner graph's inputs.
    outputs : ``ScalarVariable``s computed from ``inputs`` (and ``ScalarConstant``s).

    Two Composites are equal when their inner graphs have the same structure
    (ops, constants, wiring, input dtypes), so identical fusions merge.
    """

    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable]):
        inputs, outputs = list(inputs), list(outputs)
        for i, v in enumerate(inputs):
            if not isinstance(v.type, ps.ScalarType) or v.owner is not None:
                raise TypeError(f"Composite: input {i} ({v}) must be an ownerless scalar variable")
        self.fgraph = FunctionGraph(inputs, outputs, clone=True)
        self.inputs = self.fgraph.inputs
        self.outputs = self.fgraph.outputs
        self.nin = len(self.inputs)
        self.nout = len(self.outputs)
        self._order = self.fgraph.toposort()
        for node in self._order:
            if not isinstance(node.op, ps.ScalarOp):
                raise TypeError(f"Composite: inner node {node} is not a scalar op")
            for v in node.inputs:
                if v.owner is None and not isinstance(v, ps.ScalarConstant) and v not in self.inputs:
                    raise ValueError(f"Composite: inner variable {v} is neither an input nor a constant")
        self._signature = self._structure()
        self._hash = hash(self._signature)
        self._str = None

    def _structure(self) -> tuple:
        """A hashable description of the inner graph: ops, constants and wiring."""
        refs: dict[int, tuple] = {id(v): ("i", k) for k, v in enumerate(self.inputs)}

        def ref(v):
            r = refs.get(id(v))
            if r is None:  # a constant
                data = np.asarray(v.data)
                r = ("c", v.type.dtype, data.tobytes())
            return r

        nodes = []
        for j, node in enumerate(self._order):
            nodes.append((node.op, tuple(ref(v) for v in node.inputs)))
            for k, out in enumerate(node.outputs):
                refs[id(out)] = ("n", j, k)
        return (tuple(v.type.dtype for v in self.inputs), tuple(nodes),
                tuple(ref(v) for v in self.outputs))

    def __eq__(self, other) -> bool:
        return (type(other) is Composite and self._hash == other._hash
                and self._signature == other._signature)

    def __hash__(self) -> int:
        return self._hash

    def output_dtype(self, *dtypes: str) -> str:
        return self.outputs[0].type.dtype

    def make_node(self, *inputs) -> Apply:
        if len(inputs) != self.nin:
            raise TypeError(f"{self} takes {self.nin} inputs, got {len(inputs)}")
        for k, (given, inner) in enumerate(zip(inputs, self.inputs)):
            if given.type.dtype != inner.type.dtype:
                raise TypeError(f"{self}: input {k} has dtype {given.type.dtype}, "
                                f"the inner graph expects {inner.type.dtype}")
        outputs = [ps.ScalarType(o.type.dtype)() for o in self.outputs]
        return Apply(self, list(inputs), outputs)

    def grad(self, inputs, outputs, output_grads):
        """The gradient, by differentiating the inner graph rebuilt over tensors."""
        from ..gradient import grad as grad_
        from .elemwise import Elemwise

        tensor_outs = self.rebuild(inputs, lambda op: Elemwise(op))
        known = {o: g for o, g in zip(tensor_outs, output_grads)
                 if g is not None and np.dtype(o.dtype).kind in "fc"}
        wrt = [i for i in inputs if np.dtype(i.dtype).kind in "fc"]
        if not known or not wrt:
            return [None] * len(inputs)
        gs = grad_(None, wrt, known_grads=known, disconnected_inputs="ignore",
                   return_disconnected="None")
        by_input = dict(zip(map(id, wrt), gs))
        return [by_input.get(id(i)) for i in inputs]

    def rebuild(self, inputs: Sequence, make_op, scalar: bool = False) -> list:
        """Evaluate the inner graph symbolically: ``make_op(scalar_op)`` builds each node's op.

        ``inputs`` replace the inner inputs. Inner constants stay ``ScalarConstant``s
        when ``scalar`` (building another scalar graph), else become tensor
        constants of their dtype. Returns the outputs.
        """
        from .variable import constant

        env: dict[int, object] = {id(v): x for v, x in zip(self.inputs, inputs)}

        def get(v):
            if id(v) in env:
                return env[id(v)]
            return v if scalar else constant(np.asarray(v.data, dtype=v.type.dtype))

        for node in self._order:
            res = make_op(node.op)(*[get(v) for v in node.inputs])
            res = res if isinstance(res, (list, tuple)) else [res]
            for out, r in zip(node.outputs, res):
                env[id(out)] = r
        return [get(v) for v in self.outputs]

    def expression(self, args: Sequence[str]) -> list[str]:
        """The infix text of each output, with the inner inputs written as ``args``."""
        names = {id(v): a for v, a in zip(self.inputs, args)}
        return [_infix(o, names) for o in self.outputs]

    def __str__(self) -> str:
        if self._str is None:
            names = {id(v): f"i{k}" for k, v in enumerate(self.inputs)}
            self._str = "Composite{" + ", ".join(_infix(o, names) for o in self.outputs) + "}"
        return self._str

    __repr__ = __str__


def _infix(v: Variable, names: dict) -> str:
    if id(v) in names:
        return names[id(v)]
    if v.owner is None:
        return str(np.asarray(v.data)[()])
    op, args = v.owner.op, [_infix(i, names) for i in v.owner.inputs]
    if op.symbol is not None and len(args) >= 2:
        return "(" + f" {op.symbol} ".join(args) + ")"
    if op.symbol is not None and len(args) == 1:
        return f"{op.symbol}{args[0]}"
    return f"{op}({', '.join(args)})"
