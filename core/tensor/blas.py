"""``Gemm``: ``b * z + a * (x @ y)`` in one BLAS call (the optimizer introduces it).

A gradient step that is linear in a matrix product (SGD ``w - lr * x.T @ d``, momentum
``0.9 * v - lr * x.T @ d``) becomes one ``gemm`` that accumulates the product into ``z``;
with ``inplace`` (set by the inplace pass) it overwrites ``z``'s buffer, so the product is
never stored on its own.
"""
from __future__ import annotations

import numpy as np

from ..graph.basic import Apply, Op
from .type import TensorType
from .variable import as_tensor_variable


class Gemm(Op):
    """``b * z + a * dot(x, y)`` for matrices ``z`` (m, n), ``x`` (m, k), ``y`` (k, n) and
    0-d ``a``, ``b``; with ``inplace`` the result is written into ``z``.

    Examples
    --------
    >>> out = Gemm()(z, T.constant(-0.01), x, y, T.constant(0.9))
    """

    compute_bound = True

    __props__ = ("inplace",)

    def __init__(self, inplace: bool = False):
        self.inplace = bool(inplace)
        self.destroy_map = {0: [0]} if inplace else {}

    def make_node(self, z, a, x, y, b) -> Apply:
        z, a, x, y, b = map(as_tensor_variable, (z, a, x, y, b))
        if not (z.ndim == x.ndim == y.ndim == 2 and a.ndim == b.ndim == 0):
            raise TypeError(f"Gemm: expected matrices z, x, y and scalars a, b, got {z.type}, "
                            f"{a.type}, {x.type}, {y.type}, {b.type}")
        if len({z.dtype, x.dtype, y.dtype}) != 1 or z.dtype not in ("float32", "float64"):
            raise TypeError(f"Gemm: z, x and y must share one float dtype, got {z.dtype}, "
                            f"{x.dtype}, {y.dtype}")
        shape = tuple(s if s is not None else o for s, o in
                      zip(z.type.shape, (x.type.shape[0], y.type.shape[1])))
        return Apply(self, [z, a, x, y, b], [TensorType(z.dtype, shape)()])

    def __str__(self):
        return "Gemm{inplace}" if self.inplace else "Gemm"


def gemm_reference(z, a, x, y, b, out=None) -> np.ndarray:
    """The value, with numpy: ``b * z + a * (x @ y)`` (into ``out`` when given)."""
    if z.shape != (x.shape[0], y.shape[1]) or x.shape[1] != y.shape[0]:
        raise ValueError(f"Gemm: shapes z {z.shape}, x {x.shape}, y {y.shape} do not fit "
                         f"b * z + a * (x @ y)")
    product = np.dot(x, y)
    product *= np.asarray(a, dtype=z.dtype)
    if out is None:
        out = np.multiply(z, np.asarray(b, dtype=z.dtype))
    else:
        out *= np.asarray(b, dtype=z.dtype)
    out += product
    return out
