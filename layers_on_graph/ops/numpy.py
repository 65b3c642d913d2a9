"""``keras.ops``'s numpy-like elementwise functions and reductions on ``core.tensor``
(symbolic or eager, see dispatch); arrays and shapes in ``numpy_arrays``, products in
``numpy_products``."""
from __future__ import annotations

import numpy as np

import core.tensor as T
from core.tensor.shape_ops import shape_i

from .. import backend
from .dispatch import keras_op


def _t(x):
    return T.as_tensor_variable(x)


def _floatx_if_int(x):
    x = _t(x)
    return T.cast(x, backend.floatx()) if np.dtype(x.dtype).kind in "biu" else x


def _axes(axis, ndim: int):
    if axis is None:
        return None
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    return [int(a) % ndim if ndim else 0 for a in axes]


def _dim(x, axis: int):
    """The static size of ``axis``, else its symbolic size."""
    s = x.type.shape[axis]
    return s if s is not None else shape_i(x, axis % x.ndim)


def _shape_arg(shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return tuple(-1 if s is None else s for s in shape)


# ----- elementwise, unary -----
def _unary(core_fn, name: str, float_only: bool = True):
    def fn(x):
        return core_fn(_floatx_if_int(x) if float_only else _t(x))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``{name}(x)`` elementwise, as ``keras.ops.{name}``."
    return keras_op(fn)


abs = absolute = _unary(T.abs, "abs", float_only=False)
negative = _unary(T.neg, "negative", float_only=False)
sign = _unary(T.sign, "sign", float_only=False)
square = _unary(T.sqr, "square", float_only=False)
sqrt = _unary(T.sqrt, "sqrt")
exp = _unary(T.exp, "exp")
expm1 = _unary(T.expm1, "expm1")
log = _unary(T.log, "log")
log1p = _unary(T.log1p, "log1p")
log2 = _unary(T.log2, "log2")
log10 = _unary(T.log10, "log10")
sin = _unary(T.sin, "sin")
cos = _unary(T.cos, "cos")
tan = _unary(T.tan, "tan")
tanh = _unary(T.tanh, "tanh")
arctan = _unary(T.arctan, "arctan")
floor = _unary(T.floor, "floor", float_only=False)
ceil = _unary(T.ceil, "ceil", float_only=False)
reciprocal = _unary(T.reciprocal, "reciprocal")
isnan = _unary(T.isnan, "isnan", float_only=False)
isinf = _unary(T.isinf, "isinf", float_only=False)
logical_not = _unary(lambda x: T.invert(T.cast(x, "bool")), "logical_not", float_only=False)
sinh = _unary(lambda x: (T.exp(x) - T.exp(-x)) / 2, "sinh")
cosh = _unary(lambda x: (T.exp(x) + T.exp(-x)) / 2, "cosh")
arcsinh = _unary(lambda x: T.log(x + T.sqrt(T.sqr(x) + 1)), "arcsinh")
arccosh = _unary(lambda x: T.log(x + T.sqrt(T.sqr(x) - 1)), "arccosh")
arctanh = _unary(lambda x: 0.5 * T.log((1 + x) / (1 - x)), "arctanh")
arcsin = _unary(lambda x: 2 * T.arctan(x / (1 + T.sqrt(1 - T.sqr(x)))), "arcsin")
arccos = _unary(lambda x: np.pi / 2 - 2 * T.arctan(x / (1 + T.sqrt(1 - T.sqr(x)))), "arccos")


@keras_op
def isfinite(x):
    """True where ``x`` is neither NaN nor infinite."""
    x = _t(x)
    return T.invert(T.or_(T.isnan(x), T.isinf(x)))


@keras_op
def round(x, decimals: int = 0):
    """Round half to even, to ``decimals`` places."""
    x = _t(x)
    if not decimals:
        return T.round(x)
    scale = 10.0 ** decimals
    return T.round(x * scale) / scale


@keras_op
def nan_to_num(x, nan: float = 0.0, posinf=None, neginf=None):
    """NaN and infinities replaced by finite numbers, as ``numpy.nan_to_num``."""
    x = _t(x)
    info = np.finfo(x.dtype) if np.dtype(x.dtype).kind == "f" else None
    if info is None:
        return x
    big = info.max if posinf is None else posinf
    small = info.min if neginf is None else neginf
    x = T.switch(T.isnan(x), nan, x)
    return T.switch(T.isinf(x), T.switch(T.gt(x, 0), big, small), x)


# ----- elementwise, binary -----
def _binary(core_fn, name: str):
    def fn(x1, x2):
        return core_fn(x1, x2)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``{name}(x1, x2)`` elementwise with broadcasting, as ``keras.ops.{name}``."
    return keras_op(fn)


add = _binary(T.add, "add")
subtract = _binary(T.sub, "subtract")
multiply = _binary(T.mul, "multiply")
divide = true_divide = _binary(T.true_div, "divide")
floor_divide = _binary(T.floor_div, "floor_divide")
mod = _binary(T.mod, "mod")
power = _binary(T.pow, "power")
maximum = _binary(T.maximum, "maximum")
minimum = _binary(T.minimum, "minimum")
equal = _binary(T.eq, "equal")
not_equal = _binary(T.neq, "not_equal")
less = _binary(T.lt, "less")
less_equal = _binary(T.le, "less_equal")
greater = _binary(T.gt, "greater")
greater_equal = _binary(T.ge, "greater_equal")
logical_and = _binary(lambda a, b: T.and_(T.cast(_t(a), "bool"), T.cast(_t(b), "bool")),
                      "logical_and")
logical_or = _binary(lambda a, b: T.or_(T.cast(_t(a), "bool"), T.cast(_t(b), "bool")),
                     "logical_or")
logical_xor = _binary(lambda a, b: T.xor(T.cast(_t(a), "bool"), T.cast(_t(b), "bool")),
                      "logical_xor")
logaddexp = _binary(lambda a, b: T.maximum(a, b) + T.log1p(T.exp(-T.abs(T.sub(a, b)))),
                    "logaddexp")
arctan2 = _binary(lambda y, x: _arctan2(_floatx_if_int(y), _floatx_if_int(x)), "arctan2")


def _arctan2(y, x):
    base = T.arctan(y / T.switch(T.eq(x, 0), 1, x))
    quadrant = T.switch(T.ge(y, 0), np.pi, -np.pi)
    on_axis = T.switch(T.gt(y, 0), np.pi / 2, T.switch(T.lt(y, 0), -np.pi / 2, 0.0))
    return T.switch(T.gt(x, 0), base, T.switch(T.lt(x, 0), base + quadrant, on_axis))


@keras_op
def clip(x, x_min, x_max):
    """``x`` limited to ``[x_min, x_max]``."""
    return T.clip(_t(x), x_min, x_max)


@keras_op
def where(condition, x1=None, x2=None):
    """``x1`` where ``condition``, else ``x2`` (the one-argument form is not supported)."""
    if x1 is None or x2 is None:
        raise ValueError("where: the one-argument form (indices of nonzero elements) has a "
                         "data-dependent shape and is not supported; pass x1 and x2")
    return T.switch(T.cast(_t(condition), "bool"), x1, x2)


@keras_op
def isclose(x1, x2, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False):
    """``|x1 - x2| <= atol + rtol * |x2|`` elementwise."""
    x1, x2 = _t(x1), _t(x2)
    close = T.le(T.abs(x1 - x2), atol + rtol * T.abs(x2))
    if equal_nan:
        close = T.or_(close, T.and_(T.isnan(x1), T.isnan(x2)))
    return close


# ----- reductions -----
def _reduction(core_fn, name: str, float_result: bool = False):
    def fn(x, axis=None, keepdims: bool = False):
        x = _floatx_if_int(x) if float_result else _t(x)
        return core_fn(x, axis=axis, keepdims=keepdims)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``{name}`` over ``axis`` (None: all), as ``keras.ops.{name}``."
    return keras_op(fn)


sum = _reduction(T.sum, "sum")
prod = _reduction(T.prod, "prod")
mean = _reduction(T.mean, "mean", float_result=True)
var = _reduction(T.var, "var", float_result=True)
std = _reduction(T.std, "std", float_result=True)
max = amax = _reduction(T.max, "max")
min = amin = _reduction(T.min, "min")
all = _reduction(lambda x, axis, keepdims: T.all(T.cast(x, "bool"), axis, keepdims), "all")
any = _reduction(lambda x, axis, keepdims: T.any(T.cast(x, "bool"), axis, keepdims), "any")
count_nonzero = _reduction(
    lambda x, axis, keepdims: T.sum(T.cast(T.neq(x, 0), "int32"), axis, keepdims=keepdims),
    "count_nonzero")


def _arg_reduction(core_fn, name: str):
    def fn(x, axis=None, keepdims: bool = False):
        x = _t(x)
        if axis is None:  # over the flattened tensor, as numpy
            out = core_fn(T.flatten(x))
            return T.reshape(out, (1,) * x.ndim) if keepdims else out
        return core_fn(x, axis=axis, keepdims=keepdims)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Index of the {name[3:]}imum over ``axis`` (None: of the flattened tensor)."
    return keras_op(fn)


argmax = _arg_reduction(T.argmax, "argmax")
argmin = _arg_reduction(T.argmin, "argmin")


@keras_op
def average(x, axis=None, weights=None):
    """The (weighted) mean over ``axis``."""
    x = _floatx_if_int(x)
    if weights is None:
        return T.mean(x, axis=axis)
    w = T.cast(_t(weights), x.dtype)
    if axis is not None and w.ndim == 1 and x.ndim > 1:
        pattern = ["x"] * x.ndim
        pattern[int(axis) % x.ndim] = 0
        w = T.dimshuffle(w, pattern)
    return T.sum(x * w, axis=axis) / T.sum(w * T.ones_like(x), axis=axis)


@keras_op
def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along ``axis`` (flattened when None)."""
    return _cumulative(_t(x), axis, dtype, T.add)


@keras_op
def cumprod(x, axis=None, dtype=None):
    """Cumulative product along ``axis`` (flattened when None)."""
    return _cumulative(_t(x), axis, dtype, T.mul)


def _cumulative(x, axis, dtype, combine):
    from core.scan import scan

    if axis is None:
        x, axis = T.flatten(x), 0
    if dtype is not None:
        x = T.cast(x, str(np.dtype(dtype)))
    axis = int(axis) % x.ndim
    order = [axis] + [d for d in range(x.ndim) if d != axis]
    moved = T.transpose(x, order)
    out, _ = scan(lambda row, acc: combine(acc, row), sequences=[moved[1:]],
                  outputs_info=[moved[0]])
    out = T.concatenate([moved[:1], out], axis=0)
    out = T.reshape(out, [_dim(moved, d) for d in range(moved.ndim)], ndim=moved.ndim)
    return T.transpose(out, list(np.argsort(order)))
