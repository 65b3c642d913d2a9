"""TensorType: dtype plus static shape; and the Theano type constructors."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..config import config
from ..graph.basic import Type

ALL_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
              "uint64", "float16", "float32", "float64", "complex64", "complex128")
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
FLOAT_DTYPES = ("float16", "float32", "float64")


class TensorType(Type):
    """A tensor of ``dtype`` whose static ``shape`` has an int (known) or None per axis.

    An axis broadcasts only if its static size is 1 (Theano's broadcastable
    pattern): ``TensorType('float64', shape=(1, None))`` is a row.
    """

    def __init__(self, dtype: str, shape: Sequence[int | None] | None = None,
                 broadcastable: Sequence[bool] | None = None, name: str | None = None):
        if dtype == "floatX":
            dtype = config.floatX
        if dtype not in ALL_DTYPES:
            dtype = str(np.dtype(dtype))
        if dtype not in ALL_DTYPES:
            raise TypeError(f"TensorType: unsupported dtype {dtype!r}")
        if shape is None and broadcastable is None:
            raise TypeError("TensorType needs shape= or broadcastable=")
        if shape is None:
            shape = tuple(1 if b else None for b in broadcastable)
        self.dtype = dtype
        self.shape = tuple(None if s is None else int(s) for s in shape)
        self.name = name

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return tuple(s == 1 for s in self.shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def clone(self, dtype: str | None = None, shape=None) -> "TensorType":
        return TensorType(dtype or self.dtype, self.shape if shape is None else shape)

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.dtype == self.dtype and other.shape == self.shape

    def __hash__(self) -> int:
        return hash((TensorType, self.dtype, self.shape))

    def filter(self, value: Any, strict: bool = False, allow_downcast: bool | None = None,
               what: str = "value", hint: str = "") -> np.ndarray:
        """Check ``value`` against this type and return it as an ndarray of its dtype.

        Safe casts are accepted (int32 into float64); unsafe ones raise
        ``TypeError`` unless ``allow_downcast``. Python scalars are accepted
        when their value survives the cast (``2`` into float32).
        """
        if isinstance(value, np.ndarray) and value.dtype == self.dtype:
            data = value
        elif strict:
            raise TypeError(f"{what}: expected an ndarray of dtype {self.dtype}, got {_describe(value)}")
        else:
            data = self._cast(value, allow_downcast, what, hint)
        if data.ndim != self.ndim:
            raise TypeError(f"{what}: expected {self.ndim} dimensions, got {data.ndim} "
                            f"(an array of shape {data.shape}; {self})")
        for axis, (want, got) in enumerate(zip(self.shape, data.shape)):
            if want is not None and want != got:
                raise ValueError(f"{what}: axis {axis} must have size {want} ({self}), "
                                 f"got an array of shape {data.shape}")
        return data

    def _cast(self, value, allow_downcast, what, hint="") -> np.ndarray:
        python_scalar = isinstance(value, (bool, int, float, complex)) and not isinstance(value, np.generic)
        if isinstance(value, (list, tuple)) or python_scalar:
            arr = np.asarray(value)
            converted = arr.astype(self.dtype)
            if allow_downcast or np.array_equal(converted, arr) or (
                    arr.dtype.kind == "f" and self.dtype in FLOAT_DTYPES):
                return converted
            raise TypeError(f"{what}: {value!r} cannot be converted to {self.dtype} without loss")
        arr = np.asarray(value)
        if arr.dtype == self.dtype:
            return arr
        if np.can_cast(arr.dtype, self.dtype, "safe") or allow_downcast:
            return arr.astype(self.dtype)
        raise TypeError(
            f"{what}: an array of dtype {arr.dtype} cannot be cast safely to {self.dtype} ({self}); "
            f"cast it first (x.astype('{self.dtype}')){hint}")

    def value_zeros(self, shape) -> np.ndarray:
        return np.zeros(shape, dtype=self.dtype)

    def __str__(self) -> str:
        if self.name:
            return self.name
        dims = ", ".join("?" if s is None else str(s) for s in self.shape)
        if self.ndim == 1:
            dims += ","
        return f"TensorType({self.dtype}, ({dims}))"

    __repr__ = __str__

    def make_variable(self, name=None):
        from .variable import TensorVariable

        return TensorVariable(self, None, None, name)

    def make_constant(self, data, name=None):
        from .variable import TensorConstant

        return TensorConstant(self, data, name)


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an ndarray of dtype {value.dtype} and shape {value.shape}"
    return f"a {type(value).__name__}"


_PATTERNS = {
    "scalar": (), "vector": (None,), "matrix": (None, None), "row": (1, None),
    "col": (None, 1), "tensor3": (None,) * 3, "tensor4": (None,) * 4, "tensor5": (None,) * 5,
}
_PREFIXES = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32",
             "d": "float64", "c": "complex128"}

# Theano's typed constructors (dscalar, fmatrix, ...) are TensorType instances.
_typed = {p + k: TensorType(dt, shape) for p, dt in _PREFIXES.items() for k, shape in _PATTERNS.items()}
globals().update(_typed)


def _make_untyped(kind: str, shape: tuple):
    def constructor(name: str | None = None, dtype: str | None = None, shape=shape):
        return TensorType(dtype or config.floatX, shape)(name)

    constructor.__name__ = kind
    constructor.__doc__ = (f"A symbolic {kind} of ``dtype`` (default ``config.floatX``).\n\n"
                           f"Examples\n--------\n>>> x = {kind}('x')")
    return constructor


for _kind, _shape in _PATTERNS.items():
    globals()[_kind] = _make_untyped(_kind, _shape)


def tensor(dtype: str | None = None, shape: Sequence[int | None] | None = None,
           name: str | None = None, broadcastable=None):
    """A symbolic tensor of any rank: ``tensor('float32', shape=(None, 3))``."""
    if shape is None and broadcastable is None:
        raise TypeError("tensor() needs shape= (e.g. (None, 3)) or broadcastable=")
    return TensorType(dtype or config.floatX, shape, broadcastable)(name)


__all__ = ["TensorType", "tensor", *_typed, *_PATTERNS]
