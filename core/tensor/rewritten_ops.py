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
