"""More of ``keras.ops``'s numpy-like functions, composed from the basic ones."""
from __future__ import annotations

import numpy as np

import core.tensor as T

from .. import backend
from .dispatch import keras_op
from .numpy import _axes, _floatx_if_int, _t, isclose
from .numpy_arrays import flip, split


def _elementwise(fn, name: str, doc: str, float_only: bool = True):
    def op(*args):
        return fn(*[_floatx_if_int(a) if float_only else _t(a) for a in args])

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"{doc} (as ``keras.ops.{name}``)."
    return keras_op(op)


cbrt = _elementwise(lambda x: T.sign(x) * T.abs(x) ** (1.0 / 3.0), "cbrt", "Cube root")
deg2rad = _elementwise(lambda x: x * (np.pi / 180.0), "deg2rad", "Degrees to radians")
rad2deg = _elementwise(lambda x: x * (180.0 / np.pi), "rad2deg", "Radians to degrees")
exp2 = _elementwise(lambda x: 2.0 ** x, "exp2", "``2 ** x``")
fabs = _elementwise(T.abs, "fabs", "Absolute value, as floats")
trunc = _elementwise(lambda x: T.sign(x) * T.floor(T.abs(x)), "trunc", "Rounded toward zero")
signbit = _elementwise(lambda x: T.lt(x, 0), "signbit", "True where the sign is negative",
                       float_only=False)
isposinf = _elementwise(lambda x: T.and_(T.isinf(x), T.gt(x, 0)), "isposinf",
                        "True at +inf", float_only=False)
isneginf = _elementwise(lambda x: T.and_(T.isinf(x), T.lt(x, 0)), "isneginf",
                        "True at -inf", float_only=False)
sinc = _elementwise(lambda x: T.switch(T.eq(x, 0), 1.0, T.sin(np.pi * x) /
                                       T.switch(T.eq(x, 0), 1.0, np.pi * x)),
                    "sinc", "``sin(pi x) / (pi x)``")
erfc = _elementwise(lambda x: 1.0 - T.erf(x), "erfc", "The complementary error function")
hypot = _elementwise(lambda a, b: T.sqrt(T.sqr(a) + T.sqr(b)), "hypot", "``sqrt(a² + b²)``")
logaddexp2 = _elementwise(lambda a, b: T.maximum(a, b) + T.log1p(
    2.0 ** -T.abs(a - b)) / np.log(2.0), "logaddexp2", "``log2(2**a + 2**b)``")
fmod = _elementwise(lambda a, b: a - b * T.sign(a / b) * T.floor(T.abs(a / b)), "fmod",
                    "Remainder with the sign of the dividend")
divide_no_nan = _elementwise(lambda a, b: T.switch(T.eq(b, 0), T.zeros_like(a * b),
                                                   a / T.switch(T.eq(b, 0), 1.0, b)),
                             "divide_no_nan", "``a / b``, 0 where ``b`` is 0")
heaviside = _elementwise(lambda x, h0: T.switch(T.gt(x, 0), 1.0, T.switch(T.lt(x, 0), 0.0,
                                                                          h0 + 0.0 * x)),
                         "heaviside", "The step function (``h0`` at 0)")
real = conj = conjugate = _elementwise(lambda x: x, "real", "``x`` itself (real tensors)",
                                       float_only=False)
bitwise_and = _elementwise(T.and_, "bitwise_and", "Bitwise and", float_only=False)
bitwise_or = _elementwise(T.or_, "bitwise_or", "Bitwise or", float_only=False)
bitwise_xor = _elementwise(T.xor, "bitwise_xor", "Bitwise xor", float_only=False)
bitwise_not = bitwise_invert = _elementwise(T.invert, "bitwise_not", "Bitwise not",
                                            float_only=False)
fmax = _elementwise(lambda a, b: T.switch(T.isnan(a), b, T.switch(T.isnan(b), a,
                                                                  T.maximum(a, b))),
                    "fmax", "Maximum ignoring NaN")
fmin = _elementwise(lambda a, b: T.switch(T.isnan(a), b, T.switch(T.isnan(b), a,
                                                                  T.minimum(a, b))),
                    "fmin", "Minimum ignoring NaN")


@keras_op
def array(x, dtype=None):
    """``x`` as a tensor (a numpy array when eager)."""
    x = _t(x)
    return T.cast(x, str(np.dtype(dtype))) if dtype is not None else x


@keras_op
def empty_like(x, dtype=None):
    return T.zeros_like(_t(x), dtype=str(np.dtype(dtype)) if dtype else None)


@keras_op
def allclose(x1, x2, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False):
    """True when every element is close (a scalar bool)."""
    return T.all(isclose.symbolic(x1, x2, rtol, atol, equal_nan))


@keras_op
def ptp(x, axis=None, keepdims: bool = False):
    """Range (max - min) over ``axis``."""
    x = _t(x)
    return T.max(x, axis=axis, keepdims=keepdims) - T.min(x, axis=axis, keepdims=keepdims)


@keras_op
def logspace(start, stop, num: int = 50, endpoint: bool = True, base: float = 10.0,
             dtype=None):
    """``base ** linspace(start, stop, num)``."""
    dtype = str(np.dtype(dtype or backend.floatx()))
    div = max((num - 1) if endpoint else num, 1)
    steps = T.cast(T.arange(num), dtype)
    return T.cast(base ** (start + steps * ((stop - start) / div)), dtype)


def _nan_reduction(core_fn, fill, name: str):
    def op(x, axis=None, keepdims: bool = False):
        x = _floatx_if_int(x)
        return core_fn(T.switch(T.isnan(x), fill, x), axis=axis, keepdims=keepdims)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``{name[3:]}`` over ``axis``, ignoring NaN."
    return keras_op(op)


nansum = _nan_reduction(T.sum, 0.0, "nansum")
nanprod = _nan_reduction(T.prod, 1.0, "nanprod")
nanmax = _nan_reduction(T.max, -np.inf, "nanmax")
nanmin = _nan_reduction(T.min, np.inf, "nanmin")


@keras_op
def nanmean(x, axis=None, keepdims: bool = False):
    """Mean over ``axis``, ignoring NaN."""
    x = _floatx_if_int(x)
    valid = T.cast(T.invert(T.isnan(x)), x.dtype)
    total = T.sum(T.switch(T.isnan(x), 0.0, x), axis=axis, keepdims=keepdims)
    return total / T.sum(valid, axis=axis, keepdims=keepdims)


@keras_op
def norm(x, ord=None, axis=None, keepdims: bool = False):
    """Vector 2-norm (or ``ord``-norm) over ``axis``; Frobenius norm of a matrix by default."""
    x = _floatx_if_int(x)
    if ord in (None, "fro", 2) and (ord != 2 or axis is None or isinstance(axis, int)):
        return T.sqrt(T.sum(T.sqr(x), axis=axis, keepdims=keepdims))
    if ord == 1:
        return T.sum(T.abs(x), axis=axis, keepdims=keepdims)
    if ord == np.inf:
        return T.max(T.abs(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, (int, float)) and (axis is None or isinstance(axis, int)):
        return T.sum(T.abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)
    raise ValueError(f"norm: ord={ord!r} with axis={axis!r} is not supported")


@keras_op
def fliplr(x):
    return flip.symbolic(x, 1)


@keras_op
def flipud(x):
    return flip.symbolic(x, 0)


@keras_op
def hsplit(x, indices_or_sections):
    return split.symbolic(x, indices_or_sections, axis=1 if _t(x).ndim > 1 else 0)


@keras_op
def vsplit(x, indices_or_sections):
    return split.symbolic(x, indices_or_sections, axis=0)


@keras_op
def rot90(array, k: int = 1, axes=(0, 1)):
    """Rotated by 90 degrees ``k`` times in the plane of ``axes``."""
    x = _t(array)
    a, b = _axes(list(axes), x.ndim)
    order = list(range(x.ndim))
    order[a], order[b] = order[b], order[a]
    for _ in range(k % 4):
        x = T.transpose(flip.symbolic(x, b), order)
    return x


@keras_op
def cross(x1, x2, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis=None):
    """Cross product of 3-vectors along the last axis."""
    a, b = _t(x1), _t(x2)
    parts = [_component(a, i) for i in range(3)]
    other = [_component(b, i) for i in range(3)]
    out = [parts[1] * other[2] - parts[2] * other[1], parts[2] * other[0] - parts[0] * other[2],
           parts[0] * other[1] - parts[1] * other[0]]
    return T.stack(out, axis=-1)


def _component(x, i: int):
    return x[(slice(None),) * (x.ndim - 1) + (i,)]


@keras_op
def kron(x1, x2):
    """Kronecker product of two matrices."""
    a, b = _t(x1), _t(x2)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"kron: matrices only, got {a.type} and {b.type}")
    out = T.dimshuffle(a, (0, "x", 1, "x")) * T.dimshuffle(b, ("x", 0, "x", 1))
    return T.reshape(out, (T.shape(a)[0] * T.shape(b)[0], T.shape(a)[1] * T.shape(b)[1]),
                     ndim=2)


@keras_op
def trapezoid(y, x=None, dx: float = 1.0, axis: int = -1):
    """Integral of ``y`` by the trapezoidal rule along ``axis``."""
    y = _floatx_if_int(y)
    axis = axis % y.ndim
    hi = [slice(None)] * y.ndim
    lo = [slice(None)] * y.ndim
    hi[axis], lo[axis] = slice(1, None), slice(None, -1)
    mid = (y[tuple(hi)] + y[tuple(lo)]) / 2.0
    if x is None:
        return T.sum(mid, axis=axis) * dx
    x = _t(x)
    widths = x[1:] - x[:-1] if x.ndim == 1 else x[tuple(hi)] - x[tuple(lo)]
    if x.ndim == 1 and y.ndim > 1:
        pattern = ["x"] * y.ndim
        pattern[axis] = 0
        widths = T.dimshuffle(widths, pattern)
    return T.sum(mid * widths, axis=axis)


@keras_op
def select(condlist, choicelist, default=0):
    """The first choice whose condition holds, elementwise, else ``default``."""
    out = _t(default)
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        out = T.switch(T.cast(_t(cond), "bool"), choice, out)
    return out


@keras_op
def einsum(subscripts: str, *operands):
    """Einstein summation. Each operand is laid out on all the indices (broadcast), the
    product summed over the indices missing from the output: simple and exact, with memory
    for the full index space (fine for layer-sized tensors). Repeated indices within one
    operand are not supported."""
    xs = [_t(x) for x in operands]
    inputs, _, output = subscripts.replace(" ", "").partition("->")
    terms = inputs.split(",")
    if len(terms) != len(xs):
        raise ValueError(f"einsum: {subscripts!r} names {len(terms)} operands, got {len(xs)}")
    letters = sorted(set(inputs.replace(",", "").replace(".", "")))
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in letters]
    ellipsis_rank = max([x.ndim - len(t.replace("...", "")) for t, x in zip(terms, xs)
                         if "..." in t] or [0])
    dots = "".join(spare[:ellipsis_rank])
    terms = [t.replace("...", dots[ellipsis_rank - (x.ndim - len(t.replace("...", ""))):])
             for t, x in zip(terms, xs)]
    if "->" not in subscripts:
        counts = {c: "".join(terms).count(c) for c in set("".join(terms))}
        output = dots + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in dots))
    output = output.replace("...", dots)
    order = list(output) + sorted(set("".join(terms)) - set(output))
    product = None
    for term, x in zip(terms, xs):
        if len(set(term)) != len(term) or len(term) != x.ndim:
            raise ValueError(f"einsum: operand {term!r} does not fit {x.type} (repeated indices "
                             f"are not supported)")
        laid = T.dimshuffle(x, [term.index(c) if c in term else "x" for c in order])
        product = laid if product is None else product * laid
    summed = list(range(len(output), len(order)))
    return T.sum(product, axis=summed) if summed else product


def _ranks(x):
    """Each element's position in a stable ascending sort along the last axis."""
    a = T.dimshuffle(x, list(range(x.ndim)) + ["x"])          # x_i on axis -2
    b = T.dimshuffle(x, list(range(x.ndim - 1)) + ["x", x.ndim - 1])  # x_j on axis -1
    n = T.shape(x)[-1]
    i = T.dimshuffle(T.arange(n), (0, "x"))
    j = T.dimshuffle(T.arange(n), ("x", 0))
    before = T.or_(T.lt(b, a), T.and_(T.eq(b, a), T.lt(j, i)))
    return T.sum(T.cast(before, "int64"), axis=-1)


def _sorted_along_last(x, values: bool):
    ranks = _ranks(x)  # (..., n): rank of element i
    n = T.shape(x)[-1]
    slot = T.eq(T.dimshuffle(ranks, list(range(x.ndim)) + ["x"]),
                T.dimshuffle(T.arange(n), ["x"] * x.ndim + [0]))  # (..., i, r)
    if values:
        src = T.dimshuffle(x, list(range(x.ndim)) + ["x"])
        return T.sum(T.switch(slot, src, T.zeros_like(src)), axis=-2)
    idx = T.dimshuffle(T.arange(n), ["x"] * (x.ndim - 1) + [0, "x"])
    return T.cast(T.sum(T.switch(slot, idx, 0), axis=-2), "int32")


def _along(x, axis, fn):
    x = _t(x)
    if axis is None:
        return fn(T.flatten(x))
    axis = axis % x.ndim
    order = [d for d in range(x.ndim) if d != axis] + [axis]
    back = list(np.argsort(order))
    return T.transpose(fn(T.transpose(x, order)), back)


@keras_op
def sort(x, axis: int = -1):
    """Sorted along ``axis`` (by ranking every pair: for modest axis lengths)."""
    return _along(x, axis, lambda v: _sorted_along_last(v, True))


@keras_op
def argsort(x, axis: int = -1):
    """Indices that sort ``x`` along ``axis`` (stable; by ranking every pair)."""
    return _along(x, axis, lambda v: _sorted_along_last(v, False))
