"""TensorVariable (operators and methods) and TensorConstant."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Constant, Variable
from .type import TensorType


class _TensorMethods:
    """Operators and methods shared by tensor variables and constants.

    Each method defers to the op library, imported lazily to keep the module
    graph acyclic.
    """

    # numpy defers to our reflected operators (ndarray * x builds a graph, not an object array).
    __array_ufunc__ = None

    # arithmetic
    def __add__(self, other): return _m().add(self, other)
    def __radd__(self, other): return _m().add(other, self)
    def __sub__(self, other): return _m().sub(self, other)
    def __rsub__(self, other): return _m().sub(other, self)
    def __mul__(self, other): return _m().mul(self, other)
    def __rmul__(self, other): return _m().mul(other, self)
    def __truediv__(self, other): return _m().true_div(self, other)
    def __rtruediv__(self, other): return _m().true_div(other, self)
    def __floordiv__(self, other): return _m().floor_div(self, other)
    def __rfloordiv__(self, other): return _m().floor_div(other, self)
    def __mod__(self, other): return _m().mod(self, other)
    def __rmod__(self, other): return _m().mod(other, self)
    def __pow__(self, other): return _m().pow(self, other)
    def __rpow__(self, other): return _m().pow(other, self)
    def __neg__(self): return _m().neg(self)
    def __pos__(self): return self
    def __abs__(self): return _m().abs(self)
    # comparisons (== and != stay identity, as in Theano: use T.eq / T.neq)
    def __lt__(self, other): return _m().lt(self, other)
    def __le__(self, other): return _m().le(self, other)
    def __gt__(self, other): return _m().gt(self, other)
    def __ge__(self, other): return _m().ge(self, other)
    # logical / bitwise
    def __and__(self, other): return _m().and_(self, other)
    def __rand__(self, other): return _m().and_(other, self)
    def __or__(self, other): return _m().or_(self, other)
    def __ror__(self, other): return _m().or_(other, self)
    def __xor__(self, other): return _m().xor(self, other)
    def __rxor__(self, other): return _m().xor(other, self)
    def __invert__(self): return _m().invert(self)

    def __bool__(self):
        raise TypeError("a symbolic variable has no truth value; use T.switch or core.ifelse")

    def __iter__(self):
        raise TypeError("a symbolic tensor cannot be iterated; index it or use core.scan")

    def __len__(self):
        raise TypeError("len() of a symbolic tensor is unknown; use x.shape[0]")

    # shape-related
    @property
    def dtype(self) -> str: return self.type.dtype
    @property
    def ndim(self) -> int: return self.type.ndim
    @property
    def broadcastable(self): return self.type.broadcastable
    @property
    def shape(self): return _shape().shape(self)
    @property
    def size(self): return _m().prod(self.shape)
    @property
    def T(self): return self.transpose()

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _shape().transpose(self, axes or None)

    def dimshuffle(self, *pattern):
        if len(pattern) == 1 and isinstance(pattern[0], (tuple, list)):
            pattern = tuple(pattern[0])
        return _shape().dimshuffle(self, pattern)

    def reshape(self, shape, ndim=None):
        return _shape().reshape(self, shape, ndim=ndim)

    def flatten(self, ndim: int = 1):
        return _shape().flatten(self, ndim)

    def astype(self, dtype):
        return _m().cast(self, dtype)

    def __getitem__(self, index):
        from . import subtensor

        return subtensor.getitem(self, index)

    # reductions
    def sum(self, axis=None, keepdims=False, dtype=None): return _m().sum(self, axis, keepdims=keepdims, dtype=dtype)
    def prod(self, axis=None, keepdims=False): return _m().prod(self, axis, keepdims=keepdims)
    def mean(self, axis=None, keepdims=False): return _m().mean(self, axis, keepdims=keepdims)
    def var(self, axis=None, keepdims=False): return _m().var(self, axis, keepdims=keepdims)
    def std(self, axis=None, keepdims=False): return _m().std(self, axis, keepdims=keepdims)
    def max(self, axis=None, keepdims=False): return _m().max(self, axis, keepdims=keepdims)
    def min(self, axis=None, keepdims=False): return _m().min(self, axis, keepdims=keepdims)
    def argmax(self, axis=None, keepdims=False): return _m().argmax(self, axis, keepdims=keepdims)
    def argmin(self, axis=None, keepdims=False): return _m().argmin(self, axis, keepdims=keepdims)
    def any(self, axis=None, keepdims=False): return _m().any(self, axis, keepdims=keepdims)
    def all(self, axis=None, keepdims=False): return _m().all(self, axis, keepdims=keepdims)

    # elementwise helpers
    def dot(self, other): return _m().dot(self, other)
    def __matmul__(self, other): return _m().dot(self, other)
    def __rmatmul__(self, other): return _m().dot(other, self)
    def exp(self): return _m().exp(self)
    def log(self): return _m().log(self)
    def sqrt(self): return _m().sqrt(self)
    def clip(self, a_min, a_max): return _m().clip(self, a_min, a_max)
    def round(self): return _m().round(self)
    def nonzero(self): raise NotImplementedError("nonzero has a data-dependent shape")


def _m():
    from . import math

    return math


def _shape():
    from . import shape_ops as shape

    return shape


class TensorVariable(_TensorMethods, Variable):
    """A symbolic tensor: an input, or the output of an Apply node."""


class TensorConstant(_TensorMethods, Constant):
    """A tensor with a fixed value. Equal constants (same type and data) merge."""

    def __init__(self, type: TensorType, data: Any, name: str | None = None):
        super().__init__(type, data, name)
        self.data.setflags(write=False)

    def signature(self):
        return (self.type, self.data.tobytes(), self.data.shape)

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        if self.data.size == 1:
            return str(self.data.reshape(()).item() if self.data.ndim else self.data.item())
        return f"TensorConstant{{{np.array2string(self.data, threshold=6)}}}"


def constant(value: Any, dtype: str | None = None, name: str | None = None,
             ndim: int | None = None) -> TensorConstant:
    """A constant tensor. A Python float becomes ``config.floatX`` (as in Theano) unless ``dtype``
    says otherwise; other values keep numpy's dtype.

    Examples
    --------
    >>> T.constant(0.5).dtype   # 'float64', or 'float32' under floatX=float32
    """
    if dtype is None and type(value) is float:
        from ..config import config

        dtype = config.floatX
    arr = np.asarray(value, dtype=dtype)
    if ndim is not None and arr.ndim < ndim:
        arr = arr.reshape((1,) * (ndim - arr.ndim) + arr.shape)
    ttype = TensorType(str(arr.dtype), tuple(1 if s == 1 else s for s in arr.shape))
    return TensorConstant(ttype, arr, name)


def as_tensor_variable(x: Any, name: str | None = None, ndim: int | None = None,
                       dtype: str | None = None) -> Variable:
    """Return ``x`` as a tensor variable: variables pass through, values become constants."""
    if isinstance(x, Variable):
        if not isinstance(x.type, TensorType):
            raise TypeError(f"expected a tensor variable, got {x} of type {x.type}")
        if ndim is not None and x.ndim != ndim:
            raise ValueError(f"expected a tensor with {ndim} dimensions, got {x} ({x.type})")
        return x
    if isinstance(x, (list, tuple)) and any(isinstance(e, Variable) for e in x):
        from .shape_ops import stack

        return stack([as_tensor_variable(e) for e in x])
    if isinstance(x, (bool, int)) and not isinstance(x, np.generic) and dtype is None:
        dtype = "int64" if isinstance(x, int) and not isinstance(x, bool) else "bool"
    return constant(x, dtype=dtype, name=name, ndim=ndim)


TensorType.variable_type = TensorVariable
TensorType.constant_type = TensorConstant
