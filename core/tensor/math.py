"""Elementwise functions, reductions and ``dot``.

Elementwise functions are thin wrappers around ``Elemwise(scalar_op)``.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np

from ..graph.basic import Apply, Op
from ..graph.trace import format_trace, user_frame
from . import scalar_ops as ps
from .elemwise import DimShuffle, Elemwise, as_tensors_weak
from .type import TensorType
from .variable import as_tensor_variable, constant


@lru_cache(maxsize=None)
def elemwise_op(scalar_op: ps.ScalarOp) -> Elemwise:
    """The (shared) Elemwise op for a scalar op."""
    return Elemwise(scalar_op)


def _apply(scalar_op, *args):
    return elemwise_op(scalar_op)(*args)


def add(*xs):
    """Elementwise sum of any number of tensors, with broadcasting."""
    return _apply(ps.add, *xs)


def mul(*xs):
    """Elementwise product of any number of tensors, with broadcasting."""
    return _apply(ps.mul, *xs)


def _binary(scalar_op, doc):
    def f(x, y):
        return _apply(scalar_op, x, y)

    f.__doc__ = doc
    return f


def _unary(scalar_op, doc):
    def f(x):
        return _apply(scalar_op, x)

    f.__doc__ = doc
    return f


sub = _binary(ps.sub, "x - y elementwise.")
true_div = _binary(ps.true_div, "x / y elementwise (integers give floats).")
floor_div = int_div = _binary(ps.int_div, "x // y elementwise.")
mod = _binary(ps.mod, "x % y elementwise (sign of y, as numpy).")
pow = _binary(ps.pow, "x ** y elementwise.")
maximum = _binary(ps.maximum, "Elementwise maximum.")
minimum = _binary(ps.minimum, "Elementwise minimum.")
lt = _binary(ps.lt, "x < y elementwise (bool).")
gt = _binary(ps.gt, "x > y elementwise (bool).")
le = _binary(ps.le, "x <= y elementwise (bool).")
ge = _binary(ps.ge, "x >= y elementwise (bool).")
eq = _binary(ps.eq, "x == y elementwise (bool).")
neq = _binary(ps.neq, "x != y elementwise (bool).")
and_ = bitwise_and = _binary(ps.and_, "Logical (bool) or bitwise (int) and.")
or_ = bitwise_or = _binary(ps.or_, "Logical (bool) or bitwise (int) or.")
xor = bitwise_xor = _binary(ps.xor, "Logical (bool) or bitwise (int) xor.")
second = _binary(ps.second, "``second(a, b)``: b broadcast to a's shape.")
fill = second

neg = _unary(ps.neg, "-x elementwise.")
abs = abs_ = _unary(ps.abs_, "|x| elementwise.")
sqr = _unary(ps.sqr, "x * x elementwise.")
sign = _unary(ps.sign, "Sign of x (-1, 0, 1).")
reciprocal = inv = _unary(ps.reciprocal, "1 / x elementwise.")
floor = _unary(ps.floor, "Floor elementwise.")
ceil = _unary(ps.ceil, "Ceiling elementwise.")
round = _unary(ps.round_half_to_even, "Round half to even, elementwise.")
exp = _unary(ps.exp, "e ** x elementwise.")
log = _unary(ps.log, "Natural logarithm elementwise.")
log2 = _unary(ps.log2, "Base-2 logarithm elementwise.")
log10 = _unary(ps.log10, "Base-10 logarithm elementwise.")
log1p = _unary(ps.log1p, "log(1 + x), accurate for small x.")
expm1 = _unary(ps.expm1, "exp(x) - 1, accurate for small x.")
sqrt = _unary(ps.sqrt, "Square root elementwise.")
tanh = _unary(ps.tanh, "Hyperbolic tangent elementwise.")
sin = _unary(ps.sin, "Sine elementwise.")
cos = _unary(ps.cos, "Cosine elementwise.")
tan = _unary(ps.tan, "Tangent elementwise.")
arctan = _unary(ps.arctan, "Arc tangent elementwise.")
sigmoid = _unary(ps.sigmoid, "1 / (1 + exp(-x)) elementwise.")
softplus = _unary(ps.softplus, "log(1 + exp(x)) elementwise, without overflow.")
erf = _unary(ps.erf, "The error function elementwise.")
invert = bitwise_not = _unary(ps.invert, "Logical (bool) or bitwise (int) not.")
isnan = _unary(ps.isnan, "True where x is NaN.")
isinf = _unary(ps.isinf, "True where x is infinite.")


def switch(cond, ift, iff):
    """Elementwise ``ift if cond else iff``, broadcasting all three."""
    return _apply(ps.switch, cond, ift, iff)


where = switch


def clip(x, a_min, a_max):
    """Limit x to [a_min, a_max] elementwise."""
    return _apply(ps.clip, x, a_min, a_max)


def cast(x, dtype: str):
    """``x`` converted to ``dtype`` (``'floatX'`` means ``config.floatX``)."""
    from ..config import config

    x = as_tensor_variable(x)
    dtype = config.floatX if dtype == "floatX" else str(np.dtype(dtype))
    if x.dtype == dtype:
        return x
    return _apply(ps.Cast(dtype), x)


def zeros_like(x, dtype: str | None = None):
    """Zeros of the shape (and dtype) of x."""
    x = as_tensor_variable(x)
    return fill(x, constant(0, dtype=dtype or x.dtype))


def ones_like(x, dtype: str | None = None):
    """Ones of the shape (and dtype) of x."""
    x = as_tensor_variable(x)
    return fill(x, constant(1, dtype=dtype or x.dtype))


# --- reductions --------------------------------------------------------


def _normalize_axis(axis, ndim: int, opname: str) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"{opname}: axis {a} is out of range for a tensor with {ndim} "
                             f"dimensions, at {format_trace(user_frame())}")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{opname}: repeated axis in {axis}")
    return tuple(sorted(out))


class CAReduce(Op):
    """Reduce ``axis`` with an associative scalar op (sum, prod, max, min, any, all)."""

    __props__ = ("scalar_op", "axis", "dtype")

    def __init__(self, scalar_op: ps.ScalarOp, axis: tuple[int, ...], dtype: str | None = None):
        self.scalar_op = scalar_op
        self.axis = tuple(axis)
        self.dtype = dtype

    def make_node(self, x) -> Apply:
        x = as_tensor_variable(x)
        shape = tuple(s for d, s in enumerate(x.type.shape) if d not in self.axis)
        return Apply(self, [x], [TensorType(self.dtype or x.dtype, shape)()])

    def L_op(self, inputs, outputs, gz):
        (x,), (out,), (g,) = inputs, outputs, gz
        if np.dtype(x.dtype).kind not in "fc":
            return [None]
        pattern = []
        it = iter(range(out.ndim))
        for d in range(x.ndim):
            pattern.append("x" if d in self.axis else next(it))
        g_full = DimShuffle(g.ndim, pattern)(g)
        op = self.scalar_op
        if isinstance(op, ps.Add):
            # broadcast to x's shape reading only that shape: fill(x, g) would keep x's
            # value alive, and fused gradient kernels would recompute it
            from .shape_ops import alloc, shape_i

            gx = alloc(g_full, *[shape_i(x, d) for d in range(x.ndim)]) if x.ndim else g_full
        elif isinstance(op, ps.Mul):
            gx = g_full * _prod_grad_factor(x, self.axis)
        elif isinstance(op, (ps.Maximum, ps.Minimum)):
            gx = g_full * eq(x, DimShuffle(out.ndim, pattern)(out))
        else:
            return [None]
        return [cast(gx, x.dtype)]

    def __str__(self):
        name = {ps.Add: "Sum", ps.Mul: "Prod", ps.Maximum: "Max", ps.Minimum: "Min",
                ps.AND: "All", ps.OR: "Any"}.get(type(self.scalar_op), str(self.scalar_op))
        return f"{name}{{axis={list(self.axis)}}}"


def _prod_grad_factor(x, axis: tuple):
    """d prod(x) / dx along ``axis``: the product of the other elements, zeros included.

    ``prod / x`` fails where x is 0; instead, with ``p`` the product of the
    non-zero elements: ``p / x`` where there is no zero, ``p`` at the one zero
    if there is exactly one (0 elsewhere), and 0 everywhere if there are more.
    """
    is_zero = eq(x, 0)
    n_zeros = sum(is_zero, axis, keepdims=True)
    safe = switch(is_zero, ones_like(x), x)
    p = CAReduce(ps.mul, axis, x.dtype)(safe)
    pattern, it = [], iter(range(p.ndim))
    for d in range(x.ndim):
        pattern.append("x" if d in axis else next(it))
    p = DimShuffle(p.ndim, pattern)(p)
    return switch(eq(n_zeros, 0), p / safe, switch(eq(n_zeros, 1), p * is_zero, zeros_like(x)))


def _keep(x, out, axes: tuple, keepdims: bool):
    if not keepdims:
        return out
    pattern, it = [], iter(range(out.ndim))
    for d in range(x.ndim):
        pattern.append("x" if d in axes else next(it))
    return DimShuffle(out.ndim, pattern)(out)


def _accumulate_dtype(dtype: str) -> str:
    kind = np.dtype(dtype).kind
    return {"b": "int64", "i": "int64", "u": "uint64"}.get(kind, dtype)


def _reduce(scalar_op, name, x, axis, keepdims, dtype=None):
    x = as_tensor_variable(x)
    axes = _normalize_axis(axis, x.ndim, name)
    out = CAReduce(scalar_op, axes, dtype)(x)
    return _keep(x, out, axes, keepdims)


def sum(x, axis=None, keepdims: bool = False, dtype: str | None = None):
    """Sum over ``axis`` (all axes when None). Integer sums accumulate in int64."""
    x = as_tensor_variable(x)
    return _reduce(ps.add, "sum", x, axis, keepdims, dtype or _accumulate_dtype(x.dtype))


def prod(x, axis=None, keepdims: bool = False, dtype: str | None = None):
    """Product over ``axis``."""
    x = as_tensor_variable(x)
    return _reduce(ps.mul, "prod", x, axis, keepdims, dtype or _accumulate_dtype(x.dtype))


def max(x, axis=None, keepdims: bool = False):
    """Maximum over ``axis``; the gradient flows to every maximal element."""
    return _reduce(ps.maximum, "max", x, axis, keepdims)


def min(x, axis=None, keepdims: bool = False):
    """Minimum over ``axis``."""
    return _reduce(ps.minimum, "min", x, axis, keepdims)


def any(x, axis=None, keepdims: bool = False):
    """True where any element along ``axis`` is true."""
    return _reduce(ps.or_, "any", cast(x, "bool"), axis, keepdims)


def all(x, axis=None, keepdims: bool = False):
    """True where all elements along ``axis`` are true."""
    return _reduce(ps.and_, "all", cast(x, "bool"), axis, keepdims)


def _count(x, axes, dtype):
    from .shape_ops import shape_i

    n = None
    for a in axes:
        n = shape_i(x, a) if n is None else n * shape_i(x, a)
    return cast(n if n is not None else constant(1), dtype)


def mean(x, axis=None, keepdims: bool = False):
    """Arithmetic mean over ``axis``; integers give float64."""
    x = as_tensor_variable(x)
    axes = _normalize_axis(axis, x.ndim, "mean")
    dtype = x.dtype if np.dtype(x.dtype).kind in "fc" else "float64"
    s = sum(x, axes, keepdims=keepdims, dtype=dtype)
    return s / _count(x, axes, dtype)


def var(x, axis=None, keepdims: bool = False):
    """Variance (population, ddof=0) over ``axis``."""
    x = as_tensor_variable(x)
    centered = x - mean(x, axis, keepdims=True)
    return mean(sqr(centered), axis, keepdims=keepdims)


def std(x, axis=None, keepdims: bool = False):
    """Standard deviation (ddof=0) over ``axis``."""
    return sqrt(var(x, axis, keepdims=keepdims))


class Argmax(Op):
    """Index of the maximum (``Argmax``) or minimum (``Argmin``) along one axis (or all)."""

    __props__ = ("axis",)

    def __init__(self, axis: int | None):
        self.axis = axis

    def make_node(self, x) -> Apply:
        x = as_tensor_variable(x)
        shape = () if self.axis is None else tuple(
            s for d, s in enumerate(x.type.shape) if d != self.axis)
        return Apply(self, [x], [TensorType("int64", shape)()])

    def grad(self, inputs, gz):
        return [None]


class Argmin(Argmax):
    pass


def _arg(op_cls, name, x, axis, keepdims):
    x = as_tensor_variable(x)
    if axis is not None:
        (axis,) = _normalize_axis(axis, x.ndim, name)
    out = op_cls(axis)(x)
    return _keep(x, out, tuple(range(x.ndim)) if axis is None else (axis,), keepdims)


def argmax(x, axis=None, keepdims: bool = False):
    """Index of the maximum along ``axis`` (of the flattened tensor when None)."""
    return _arg(Argmax, "argmax", x, axis, keepdims)


def argmin(x, axis=None, keepdims: bool = False):
    """Index of the minimum along ``axis``."""
    return _arg(Argmin, "argmin", x, axis, keepdims)


# --- products ------------------------------------------------------------


class Dot(Op):
    """Inner product of vectors and matrices in every combination (numpy's ``dot``)."""

    compute_bound = True

    def make_node(self, x, y) -> Apply:
        x, y = as_tensor_variable(x), as_tensor_variable(y)
        if not (1 <= x.ndim <= 2 and 1 <= y.ndim <= 2):
            raise TypeError(f"Dot takes vectors and matrices, got {x.type} and {y.type}")
        k_x, k_y = x.type.shape[-1], y.type.shape[0]
        if k_x is not None and k_y is not None and k_x != k_y:
            raise ValueError(
                f"dot: shapes {_shape_str(x)} and {_shape_str(y)} are not aligned "
                f"({k_x} != {k_y}), at {format_trace(user_frame())}")
        shape = x.type.shape[:-1] + y.type.shape[1:]
        dtype = str(np.result_type(np.dtype(x.dtype), np.dtype(y.dtype)))
        return Apply(self, [x, y], [TensorType(dtype, shape)()])

    def grad(self, inputs, gz):
        (x, y), (g,) = inputs, gz
        if x.ndim == 2 and y.ndim == 2:
            gx, gy = dot(g, y.T), dot(x.T, g)
        elif x.ndim == 2:  # matrix . vector
            gx, gy = outer(g, y), dot(x.T, g)
        elif y.ndim == 2:  # vector . matrix
            gx, gy = dot(y, g), outer(x, g)
        else:
            gx, gy = g * y, g * x
        return [cast(gx, x.dtype), cast(gy, y.dtype)]


_dot = Dot()


def _shape_str(x) -> str:
    return "(" + ", ".join("?" if s is None else str(s) for s in x.type.shape) + ")"


def dot(x, y):
    """Matrix/vector product, as ``numpy.dot``; tensors above 2-d use ``tensordot``."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.ndim == 0 or y.ndim == 0:
        return mul(x, y)
    if x.ndim <= 2 and y.ndim <= 2:
        return _dot(x, y)
    from .extra import tensordot

    return tensordot(x, y, axes=[[x.ndim - 1], [y.ndim - 2 if y.ndim >= 2 else 0]])


def outer(x, y):
    """Outer product of two vectors."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    return _dot(DimShuffle(1, (0, "x"))(x), DimShuffle(1, ("x", 0))(y))


def dtype_of(xs: Sequence) -> str:
    """The NumPy-2 promoted dtype of op arguments (Python scalars weak)."""
    return str(np.result_type(*[np.dtype(v.dtype) for v in as_tensors_weak(xs)]))
