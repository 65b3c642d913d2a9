"""Elemwise (a scalar op mapped over tensors, with static broadcasting) and DimShuffle."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.trace import format_trace, user_frame
from . import scalar_ops as ps
from .type import TensorType
from .variable import TensorConstant, as_tensor_variable, constant


def as_tensors_weak(args: Sequence) -> list[Variable]:
    """Convert op arguments to tensors, treating Python scalars as weakly typed.

    As in NumPy 2, a Python number takes the dtype of the tensors it meets
    (``float32_tensor * 2.0`` stays float32) unless its kind is higher
    (``int32_tensor * 2.0`` is float64).
    """
    strong = [np.dtype(a.type.dtype) for a in args if isinstance(a, Variable)]
    out = []
    for a in args:
        if isinstance(a, Variable):
            out.append(as_tensor_variable(a))
        elif strong and isinstance(a, (bool, int, float)) and not isinstance(a, np.generic):
            dtype = np.result_type(*strong, a)
            if dtype.kind in "iu" and not np.iinfo(dtype).min <= a <= np.iinfo(dtype).max:
                # numpy 2 raises OverflowError here; we widen to a type that holds the value
                dtype = np.result_type(*strong, np.min_scalar_type(a))
            out.append(constant(a, dtype=str(dtype)))
        else:
            out.append(as_tensor_variable(a))
    return out


class DimShuffle(Op):
    """Reorder axes, insert broadcastable axes (``'x'``) or drop broadcastable ones.

    ``DimShuffle(2, (1, 'x', 0))`` maps a matrix of shape (a, b) to (b, 1, a).
    """

    __props__ = ("input_ndim", "new_order")
    view_map = {0: [0]}

    def __init__(self, input_ndim: int, new_order: Sequence):
        self.input_ndim = int(input_ndim)
        self.new_order = tuple(new_order)
        kept = [d for d in self.new_order if d != "x"]
        if len(set(kept)) != len(kept) or any(not 0 <= d < self.input_ndim for d in kept):
            raise ValueError(f"DimShuffle: invalid pattern {self.new_order} for {self.input_ndim} dims")
        self.drop = tuple(d for d in range(self.input_ndim) if d not in kept)
        self.shuffle = tuple(kept)
        self.augment = tuple(i for i, d in enumerate(self.new_order) if d == "x")

    def make_node(self, x) -> Apply:
        x = as_tensor_variable(x)
        if x.ndim != self.input_ndim:
            raise ValueError(f"DimShuffle{self.new_order}: expected {self.input_ndim} dims, got {x.type}")
        for d in self.drop:
            if x.type.shape[d] != 1:
                raise ValueError(
                    f"dimshuffle{self.new_order}: cannot drop axis {d} of {x.type}: only "
                    f"broadcastable axes (static size 1) can be dropped")
        shape = tuple(1 if d == "x" else x.type.shape[d] for d in self.new_order)
        return Apply(self, [x], [TensorType(x.dtype, shape)()])

    @property
    def is_transpose(self) -> bool:
        return not self.augment and not self.drop

    def grad(self, inputs, gz):
        from .math import sum as sum_
        from .shape_ops import dimshuffle

        (x,), (g,) = inputs, gz
        # Undo: remove the inserted axes, then put the kept axes back in input order.
        if self.augment:
            if all(g.type.shape[i] == 1 for i in self.augment):
                g = dimshuffle(g, [i for i, d in enumerate(self.new_order) if d != "x"])
            else:
                g = sum_(g, axis=list(self.augment))
        order = ["x" if d in self.drop else self.shuffle.index(d) for d in range(self.input_ndim)]
        return [dimshuffle(g, order)]

    def __str__(self):
        return f"DimShuffle{{{','.join(map(str, self.new_order))}}}"


class Elemwise(Op):
    """Apply ``scalar_op`` elementwise, with Theano's static broadcasting.

    ``inplace_pattern`` maps an output index to the input whose buffer it may
    overwrite (set by the inplace rewrite).
    """

    __props__ = ("scalar_op", "inplace_pattern")

    def __init__(self, scalar_op: ps.ScalarOp, inplace_pattern: dict | None = None,
                 name: str | None = None):
        self.scalar_op = scalar_op
        self.inplace_pattern = tuple(sorted((inplace_pattern or {}).items()))
        self.destroy_map = {o: [i] for o, i in self.inplace_pattern}
        self.name = name

    def make_node(self, *inputs) -> Apply:
        inputs = as_tensors_weak(inputs)
        ndim = max(i.ndim for i in inputs)
        inputs = [i if i.ndim == ndim else _left_pad(i, ndim) for i in inputs]
        shape = broadcast_static_shapes([i.type.shape for i in inputs], self)
        scalar_inputs = [ps.ScalarType(i.dtype)() for i in inputs]
        scalar_node = self.scalar_op.make_node(*scalar_inputs)
        outputs = [TensorType(o.type.dtype, shape)() for o in scalar_node.outputs]
        return Apply(self, inputs, outputs)

    def L_op(self, inputs, outputs, output_grads):
        from .math import sum as sum_, cast

        grads = self.scalar_op.grad(inputs, outputs, output_grads)
        result = []
        for inp, g in zip(inputs, grads):
            if g is None or np.dtype(inp.dtype).kind not in "fc":
                result.append(None)
                continue
            axes = [d for d in range(inp.ndim)
                    if inp.type.shape[d] == 1 and g.type.shape[d] != 1]
            if axes:
                g = sum_(g, axis=axes, keepdims=True)
            if g.ndim > inp.ndim:  # cannot happen after make_node padding, kept for safety
                g = sum_(g, axis=list(range(g.ndim - inp.ndim)))
            if g.dtype != inp.dtype:
                g = cast(g, inp.dtype)
            result.append(g)
        return result

    def __str__(self):
        label = self.name or str(self.scalar_op)
        if self.inplace_pattern:
            return f"Elemwise{{{label},inplace}}"
        return f"Elemwise{{{label}}}"


def _left_pad(x: Variable, ndim: int) -> Variable:
    """``x`` with broadcastable axes prepended up to ``ndim`` (constants are reshaped directly)."""
    if isinstance(x, TensorConstant) and x.name is None:
        return constant(x.data, dtype=x.dtype, ndim=ndim)
    return DimShuffle(x.ndim, ("x",) * (ndim - x.ndim) + tuple(range(x.ndim)))(x)


def broadcast_static_shapes(shapes: Sequence[tuple], op=None) -> tuple:
    """The static output shape of broadcasting ``shapes`` (all of one rank).

    An axis broadcasts only where its static size is 1; two different known
    sizes raise ``ValueError`` at graph-build time.
    """
    out = []
    for axis, sizes in enumerate(zip(*shapes)):
        known = {s for s in sizes if s is not None and s != 1}
        if len(known) > 1:
            raise ValueError(
                f"{op}: incompatible static shapes {list(shapes)} on axis {axis} "
                f"(sizes {sorted(known)}), at {format_trace(user_frame())}")
        if known:
            out.append(known.pop())
        elif all(s == 1 for s in sizes):
            out.append(1)
        else:
            out.append(None)
    return tuple(out)
