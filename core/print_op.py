"""``Print``: an identity op that prints its value when the compiled function runs."""
from __future__ import annotations

from typing import Callable, Sequence

from .graph.basic import Apply, Op
from .tensor.variable import as_tensor_variable


class Print(Op):
    """Identity that prints ``message`` and the attributes ``attrs`` of its value.

    Each attribute is read from the runtime array (``'shape'``, ``'dtype'``,
    ``'__str__'`` for the value itself, or a method such as ``'sum'``). The
    gradient passes through unchanged (and prints nothing). Optimizers must
    keep the node: ``keep_node`` says so.

    Examples
    --------
    >>> x = T.dvector('x'); y = Print('x is', attrs=('__str__', 'shape'))(x) * 2
    >>> function([x], y)([1., 2.])   # prints "x is __str__ = [1. 2.]" and "x is shape = (2,)"
    """

    __props__ = ("message", "attrs")
    view_map = {0: [0]}
    keep_node = True  # a side effect: never removed, folded or merged away by rewrites

    def __init__(self, message: str = "", attrs: Sequence[str] = ("__str__",),
                 global_fn: Callable | None = None):
        self.message = str(message)
        self.attrs = tuple(attrs)
        self.global_fn = global_fn

    def make_node(self, x) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def grad(self, inputs, output_grads):
        return [output_grads[0]]

    def R_op(self, inputs, eval_points):
        return [eval_points[0]]

    def __eq__(self, other) -> bool:
        return super().__eq__(other) and self.global_fn is other.global_fn

    def __hash__(self) -> int:
        return super().__hash__()

    def __str__(self) -> str:
        return f"Print{{{self.message}}}"


__all__ = ["Print"]
