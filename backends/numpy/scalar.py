"""numpy implementations of the scalar ops, used by Elemwise and Composite kernels."""
from __future__ import annotations

from functools import reduce

import numpy as np

from core.tensor import scalar_ops as ps

def _erf(x):
    """The error function: scipy's when installed, loaded on first use (it is slow to import)."""
    if not _ERF:
        try:
            from scipy.special import erf as impl
        except ImportError:  # scipy is not a dependency
            impl = np.vectorize(__import__("math").erf, otypes=[float])
        _ERF.append(impl)
    return _ERF[0](x)


_ERF: list = []


def _sigmoid(x):
    # exp(-|x|) cannot overflow, and e / (1 + e) keeps full relative precision
    # for very negative x (where 0.5 * (1 + tanh(x / 2)) cancels to 0).
    e = np.exp(-np.abs(x))
    e /= 1.0 + e
    return np.where(x < 0, e, 1.0 - e)


def _second(a, b):
    return np.array(np.broadcast_to(b, np.broadcast_shapes(np.shape(a), np.shape(b))))


def _softplus(x):
    return np.logaddexp(0, x)


def _variadic(ufunc):
    def f(*xs):
        return reduce(ufunc, xs) if len(xs) > 2 else ufunc(*xs)

    return f


SCALAR_IMPLS = {
    ps.Add: _variadic(np.add), ps.Mul: _variadic(np.multiply), ps.Sub: np.subtract,
    ps.TrueDiv: np.true_divide, ps.IntDiv: np.floor_divide, ps.Mod: np.mod, ps.Pow: np.power,
    ps.Maximum: np.maximum, ps.Minimum: np.minimum, ps.Neg: np.negative, ps.Abs: np.abs,
    ps.Sqr: np.square, ps.Sign: np.sign, ps.Reciprocal: np.reciprocal, ps.Identity: np.positive,
    ps.Floor: np.floor, ps.Ceil: np.ceil, ps.Round: np.round, ps.Exp: np.exp, ps.Log: np.log,
    ps.Log2: np.log2, ps.Log10: np.log10, ps.Log1p: np.log1p, ps.Expm1: np.expm1,
    ps.Sqrt: np.sqrt, ps.Tanh: np.tanh, ps.Sin: np.sin, ps.Cos: np.cos, ps.Tan: np.tan,
    ps.Arctan: np.arctan, ps.Sigmoid: _sigmoid, ps.Softplus: _softplus, ps.Erf: _erf,
    ps.LT: np.less, ps.GT: np.greater, ps.LE: np.less_equal, ps.GE: np.greater_equal,
    ps.EQ: np.equal, ps.NEQ: np.not_equal, ps.AND: np.bitwise_and, ps.OR: np.bitwise_or,
    ps.XOR: np.bitwise_xor, ps.Invert: np.invert, ps.IsNan: np.isnan, ps.IsInf: np.isinf,
    ps.Switch: np.where, ps.Clip: np.clip, ps.Second: _second,
}

_BINARY_UFUNCS = {ps.Add: np.add, ps.Mul: np.multiply}


def scalar_impl(scalar_op, nin: int | None = None):
    """The numpy function computing ``scalar_op`` elementwise on arrays (of ``nin`` inputs)."""
    if nin is not None and nin <= 2 and type(scalar_op) in _BINARY_UFUNCS:
        return _BINARY_UFUNCS[type(scalar_op)]
    if isinstance(scalar_op, ps.Cast):
        dtype = np.dtype(scalar_op.dtype)
        return lambda x: np.asarray(x).astype(dtype)
    for cls in type(scalar_op).__mro__:
        if cls in SCALAR_IMPLS:
            return SCALAR_IMPLS[cls]
    if hasattr(scalar_op, "fgraph"):  # a Composite: evaluate its inner graph
        from .composite import composite_impl

        return composite_impl(scalar_op)
    raise NotImplementedError(f"the numpy backend has no implementation of scalar op {scalar_op}")
