"""Identities whose gradient is changed: ``zero_grad``, ``disconnected_grad``, ``grad_clip``,
``grad_scale`` (Theano's ``theano.gradient`` names; import them from ``core.gradient``).

Each is the identity on values; only ``grad`` sees a difference. The optimizer removes
them from compiled functions (``local_remove_gradient_ops``, in every mode).
"""
from __future__ import annotations

from .graph.basic import Apply, Op
from .tensor.variable import as_tensor_variable


class GradientOp(Op):
    """The identity on values; subclasses say what becomes of the gradient."""

    view_map = {0: [0]}

    def make_node(self, x) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])


class ZeroGrad(GradientOp):
    """The gradient through it is zero (the input stays connected to the cost)."""

    def grad(self, inputs, output_grads):
        from .tensor import math as tm

        return [tm.zeros_like(inputs[0])]


class DisconnectedGrad(GradientOp):
    """No gradient flows through it: ``grad`` treats the input as disconnected there."""

    def grad(self, inputs, output_grads):
        return [None]


class GradClip(GradientOp):
    """The gradient through it is clipped elementwise to ``[lower, upper]``."""

    __props__ = ("lower", "upper")

    def __init__(self, lower: float, upper: float):
        if not lower <= upper:
            raise ValueError(f"grad_clip: the lower bound {lower} is above the upper bound {upper}")
        self.lower, self.upper = float(lower), float(upper)

    def grad(self, inputs, output_grads):
        from .tensor import math as tm

        return [tm.clip(output_grads[0], self.lower, self.upper)]


class GradScale(GradientOp):
    """The gradient through it is multiplied by ``multiplier``."""

    __props__ = ("multiplier",)

    def __init__(self, multiplier: float):
        self.multiplier = float(multiplier)

    def grad(self, inputs, output_grads):
        return [output_grads[0] * self.multiplier]


def zero_grad(x):
    """``x``, with a zero gradient: ``grad(f(zero_grad(x)), x)`` is 0 (Theano's ``zero_grad``).

    Examples
    --------
    >>> x = T.dscalar('x'); g = T.grad(x ** 2 + zero_grad(x ** 3), x)   # 2x
    """
    return ZeroGrad()(x)


def disconnected_grad(x):
    """``x``, with no gradient path through it (Theano's ``disconnected_grad``).

    ``grad`` raises ``DisconnectedInputError`` for a variable reached only through it
    (unless ``disconnected_inputs='ignore'``), as for one the cost does not use.
    """
    return DisconnectedGrad()(x)


def grad_clip(x, lower_bound: float, upper_bound: float):
    """``x``, whose gradient is clipped elementwise to ``[lower_bound, upper_bound]``.

    Examples
    --------
    >>> x = T.dvector('x'); g = T.grad(T.sum(grad_clip(x, -1, 1) ** 2), x)  # clip(2x, -1, 1)
    """
    return GradClip(lower_bound, upper_bound)(x)


def grad_scale(x, multiplier: float):
    """``x``, whose gradient is multiplied by ``multiplier`` (Theano's ``grad_scale``)."""
    return GradScale(multiplier)(x)


__all__ = ["zero_grad", "disconnected_grad", "grad_clip", "grad_scale", "GradientOp",
           "ZeroGrad", "DisconnectedGrad", "GradClip", "GradScale"]
