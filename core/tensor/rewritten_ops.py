"""Ops the optimizer introduces for numerical stability (users may call them too).

``LogSumExp`` replaces ``log(sum(exp(x)))``; ``CrossentropySoftmax1Hot``
replaces ``categorical_crossentropy(softmax(z), labels)`` and its gradient
``CrossentropySoftmax1HotDx`` is ``(softmax(z) - onehot(labels)) * g``, finite
whatever the logits.
"""
from __future__ import annotations

import numpy as np

from ..graph.basic import Apply, Op
from .type import TensorType
from .variable import as_tensor_variable


class LogSumExp(Op):
    """``log(sum(exp(x), axis))``, computed as ``m + log(sum(exp(x - m)))`` with ``m = max(x)``.

    Examples
    --------
    >>> x = T.dmatrix('x'); y = LogSumExp((1,))(x)
    """

    __props__ = ("axis",)

    def __init__(self, axis: tuple[int, ...]):
        self.axis = tuple(sorted(axis))

    def make_node(self, x) -> Apply:
        x = as_tensor_variable(x)
        shape = tuple(s for d, s in enumerate(x.type.shape) if d not in self.axis)
        return Apply(self, [x], [TensorType(x.dtype, shape)()])

    def L_op(self, inputs, outputs, gz):
        from .elemwise import DimShuffle
        from . import math as tm

        (x,), (out,), (g,) = inputs, outputs, gz
        pattern, it = [], iter(range(out.ndim))
        for d in range(x.ndim):
            pattern.append("x" if d in self.axis else next(it))
        expand = DimShuffle(out.ndim, pattern)
        return [expand(g) * tm.exp(x - expand(out))]


def logsumexp(x, axis=None):
    """A stable ``log(sum(exp(x), axis))``."""
    x = as_tensor_variable(x)
    axes = tuple(range(x.ndim)) if axis is None else tuple(
        a % x.ndim for a in ([axis] if isinstance(axis, int) else axis))
    return LogSumExp(axes)(x)


class CrossentropySoftmax1Hot(Op):
    """``-log(softmax(z)[i, y_i])`` per row, computed as ``logsumexp(z_i) - z[i, y_i]``."""

    def make_node(self, z, y) -> Apply:
        z, y = as_tensor_variable(z), as_tensor_variable(y)
        if z.ndim != 2 or y.ndim != 1 or np.dtype(y.dtype).kind not in "iu":
            raise TypeError(f"CrossentropySoftmax1Hot: expected a matrix of logits and integer "
                            f"labels, got {z.type} and {y.type}")
        return Apply(self, [z, y], [TensorType(z.dtype, (z.type.shape[0],))()])

    def L_op(self, inputs, outputs, gz):
        from .nnet import softmax

        z, y = inputs
        return [CrossentropySoftmax1HotDx()(gz[0], softmax(z), y), None]


class CrossentropySoftmax1HotDx(Op):
    """Gradient of the above wrt the logits: ``(sm - onehot(y)) * g[:, None]``."""

    def make_node(self, g, sm, y) -> Apply:
        g, sm, y = map(as_tensor_variable, (g, sm, y))
        return Apply(self, [g, sm, y], [sm.type()])


class DotElemwiseDot(Op):
    """``z = X @ v``; ``outs = elemwise(..., z, ...)``; ``g = X.T @ outs[k]``, in one op.

    The optimizer builds it where a gradient reads the data matrix twice (a linear
    model's step: the predictions, a per-row loss and its gradient, the weights'
    gradient), so that a backend can go over ``X`` once, in blocks of rows that stay
    in cache. Inputs: ``X`` (n, f), ``v`` (f,), then the elementwise node's inputs with
    ``z`` left out (each of length n, or broadcastable). Outputs: ``z``, the elementwise
    outputs, ``g`` (f,).
    """

    compute_bound = True

    __props__ = ("elemwise", "z_position", "grad_output")

    def __init__(self, elemwise, z_position: int, grad_output: int):
        self.elemwise, self.z_position, self.grad_output = elemwise, int(z_position), int(grad_output)

    def elemwise_inputs(self, z, others: list) -> list:
        """The elementwise node's inputs: ``others`` with ``z`` put back in its place."""
        return others[:self.z_position] + [z] + others[self.z_position:]

    def make_node(self, x, v, *others) -> Apply:
        x, v = as_tensor_variable(x), as_tensor_variable(v)
        others = [as_tensor_variable(o) for o in others]
        if x.ndim != 2 or v.ndim != 1:
            raise TypeError(f"DotElemwiseDot: expected a matrix and a vector, got {x.type} and "
                            f"{v.type}")
        z = TensorType(x.dtype, (x.type.shape[0],))()
        inner = self.elemwise.make_node(*self.elemwise_inputs(z, others))
        g = TensorType(x.dtype, (x.type.shape[1],))()
        return Apply(self, [x, v, *others], [z, *[o.type() for o in inner.outputs], g])

    def inner_node(self, node):
        """The elementwise node this op computes, on fresh variables of the same types."""
        z = node.outputs[0].type()
        return self.elemwise.make_node(*self.elemwise_inputs(
            z, [o.type() for o in node.inputs[2:]]))

    def __str__(self):
        return f"DotElemwiseDot{{{self.elemwise}}}"
