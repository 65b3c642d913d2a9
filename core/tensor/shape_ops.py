"""Shape ops: symbolic shape, reshape, flatten, dimshuffle, transpose, alloc."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..graph.basic import Apply, Constant, Op, Variable
from ..graph.trace import format_trace, user_frame
from .elemwise import DimShuffle
from .type import TensorType
from .variable import TensorConstant, as_tensor_variable, constant


class Shape(Op):
    """The shape of a tensor, as an int64 vector."""

    def make_node(self, x) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", (x.ndim,))()])

    def grad(self, inputs, gz):
        return [None]


class Shape_i(Op):
    """The size of one axis of a tensor, as an int64 scalar."""

    __props__ = ("i",)

    def __init__(self, i: int):
        self.i = int(i)

    def make_node(self, x) -> Apply:
        x = as_tensor_variable(x)
        if not 0 <= self.i < x.ndim:
            raise ValueError(f"Shape_i: axis {self.i} out of range for {x.type}")
        return Apply(self, [x], [TensorType("int64", ())()])

    def grad(self, inputs, gz):
        return [None]


_shape = Shape()


def shape(x) -> Variable:
    """Symbolic shape of ``x`` (an int64 vector); ``shape(x)[i]`` is the size of axis i."""
    return _shape(as_tensor_variable(x))


def shape_i(x, i: int) -> Variable:
    """The size of axis ``i`` of ``x``: a constant when statically known."""
    x = as_tensor_variable(x)
    static = x.type.shape[i]
    if static is not None:
        return constant(static, dtype="int64")
    return Shape_i(i % x.ndim)(x)


class MakeVector(Op):
    """Stack scalars into a vector."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str = "int64"):
        self.dtype = dtype

    def make_node(self, *scalars) -> Apply:
        from .math import cast

        scalars = [cast(as_tensor_variable(s), self.dtype) for s in scalars]
        for s in scalars:
            if s.ndim != 0:
                raise TypeError(f"MakeVector takes scalars, got {s.type}")
        return Apply(self, scalars, [TensorType(self.dtype, (len(scalars),))()])

    def grad(self, inputs, gz):
        if np.dtype(self.dtype).kind not in "fc":
            return [None] * len(inputs)
        from .subtensor import getitem

        return [getitem(gz[0], i) for i in range(len(inputs))]


def stack_scalars(values: Sequence, dtype: str | None = None) -> Variable:
    """A vector of symbolic or constant scalars."""
    values = [as_tensor_variable(v) for v in values]
    if dtype is None:
        dtype = str(np.result_type(*[np.dtype(v.dtype) for v in values])) if values else "int64"
    return MakeVector(dtype)(*values)


def stack(values: Sequence, axis: int = 0) -> Variable:
    """Stack tensors of one shape along a new axis."""
    values = [as_tensor_variable(v) for v in values]
    if all(v.ndim == 0 for v in values) and axis == 0:
        return stack_scalars(values)
    from .join import stack as join_stack

    return join_stack(values, axis=axis)


def _static_values(v: Variable) -> list | None:
    """Entries of a shape vector known at build time (None for unknown ones)."""
    if isinstance(v, Constant):
        return [int(s) for s in np.asarray(v.data).ravel()]
    if v.owner is not None and isinstance(v.owner.op, MakeVector):
        return [int(i.data) if isinstance(i, Constant) else None for i in v.owner.inputs]
    if v.owner is not None and isinstance(v.owner.op, Shape):
        return list(v.owner.inputs[0].type.shape)
    return None


def as_shape_vector(shape_arg) -> Variable:
    if isinstance(shape_arg, Variable):
        if shape_arg.ndim == 0:
            return stack_scalars([shape_arg], "int64")
        return shape_arg
    if isinstance(shape_arg, (int, np.integer)):
        shape_arg = (shape_arg,)
    if all(isinstance(s, (int, np.integer)) for s in shape_arg):
        return constant(np.asarray(shape_arg, dtype="int64"))
    return stack_scalars(shape_arg, "int64")


class Reshape(Op):
    """Reshape ``x`` to a symbolic shape vector of ``ndim`` entries (one may be -1)."""

    __props__ = ("ndim",)
    view_map = {0: [0]}

    def __init__(self, ndim: int):
        self.ndim = int(ndim)

    def make_node(self, x, shp) -> Apply:
        x, shp = as_tensor_variable(x), as_tensor_variable(shp)
        if shp.ndim != 1 or np.dtype(shp.dtype).kind not in "iu":
            raise TypeError(f"reshape: the shape must be an integer vector, got {shp.type}")
        values = _static_values(shp) or [None] * self.ndim
        out_shape = [None if (s is None or s < 0) else s for s in values]
        known_in = x.type.shape
        if None not in known_in and values.count(-1) == 1 and None not in values:
            total = int(np.prod(known_in))
            rest = int(np.prod([s for s in values if s != -1]))
            if rest and total % rest == 0:
                out_shape[values.index(-1)] = total // rest
        if None not in known_in and None not in out_shape and int(np.prod(known_in)) != int(np.prod(out_shape)):
            raise ValueError(f"reshape: cannot reshape {known_in} to {tuple(values)}, at "
                             f"{format_trace(user_frame())}")
        return Apply(self, [x, shp], [TensorType(x.dtype, tuple(out_shape))()])

    def grad(self, inputs, gz):
        x, _ = inputs
        return [reshape(gz[0], shape(x), ndim=x.ndim), None]


def reshape(x, newshape, ndim: int | None = None) -> Variable:
    """``x`` with a new shape (a tuple of ints or scalars, or an int vector).

    One None entry (an unknown static size, as in a Keras tensor's tuple shape) is
    inferred like -1.
    """
    x = as_tensor_variable(x)
    if isinstance(newshape, (tuple, list)) and any(s is None for s in newshape):
        unknown = sum(1 for s in newshape if s is None or (isinstance(s, (int, np.integer))
                                                            and s == -1))
        if unknown > 1:
            raise ValueError(f"reshape: at most one unknown size (None or -1) can be inferred, "
                             f"got shape {tuple(newshape)} for {x.type}")
        newshape = [-1 if s is None else s for s in newshape]
    shp = as_shape_vector(newshape)
    if ndim is None:
        ndim = shp.type.shape[0]
        if ndim is None:
            raise ValueError("reshape: pass ndim= when the shape vector's length is symbolic")
    return Reshape(ndim)(x, shp)


def flatten(x, ndim: int = 1) -> Variable:
    """Keep the first ``ndim - 1`` axes and flatten the rest into the last one."""
    x = as_tensor_variable(x)
    if not 1 <= ndim <= max(x.ndim, 1):
        raise ValueError(f"flatten: ndim={ndim} must be between 1 and {x.ndim}")
    lead = [shape_i(x, d) for d in range(ndim - 1)]
    return reshape(x, lead + [-1], ndim=ndim)


def dimshuffle(x, pattern: Sequence) -> Variable:
    """Theano's dimshuffle: reorder axes, ``'x'`` inserts a broadcastable axis."""
    x = as_tensor_variable(x)
    pattern = tuple(pattern)
    if pattern == tuple(range(x.ndim)):
        return x
    return DimShuffle(x.ndim, pattern)(x)


def transpose(x, axes: Sequence[int] | None = None) -> Variable:
    """Permute axes (reverse them when ``axes`` is None)."""
    x = as_tensor_variable(x)
    axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(a % x.ndim for a in axes)
    return dimshuffle(x, axes)


class Rebroadcast(Op):
    """Set which axes broadcast: ``axes`` lists ``(axis, True | False)`` pairs.

    Marking an axis broadcastable asserts at run time that its size is 1.
    """

    __props__ = ("axes",)
    view_map = {0: [0]}

    def __init__(self, axes: Sequence[tuple[int, bool]]):
        self.axes = tuple(sorted((int(a), bool(b)) for a, b in axes))

    def make_node(self, x) -> Apply:
        x = as_tensor_variable(x)
        shape = list(x.type.shape)
        for axis, flag in self.axes:
            if not 0 <= axis < x.ndim:
                raise ValueError(f"Rebroadcast: axis {axis} out of range for {x.type}")
            if flag and shape[axis] not in (None, 1):
                raise ValueError(f"addbroadcast: axis {axis} of {x.type} has static size "
                                 f"{shape[axis]}, not 1")
            shape[axis] = 1 if flag else (None if shape[axis] == 1 else shape[axis])
        return Apply(self, [x], [TensorType(x.dtype, tuple(shape))()])

    def grad(self, inputs, gz):
        x = inputs[0]
        return [patternbroadcast(gz[0], x.type.broadcastable)]


def _rebroadcast(x, pairs) -> Variable:
    x = as_tensor_variable(x)
    pairs = [(a % x.ndim if x.ndim else a, flag) for a, flag in pairs
             if x.type.broadcastable[a % x.ndim if x.ndim else a] != flag]
    return Rebroadcast(pairs)(x) if pairs else x


def addbroadcast(x, *axes: int) -> Variable:
    """``x`` with ``axes`` declared broadcastable (checked to have size 1 at run time)."""
    return _rebroadcast(x, [(a, True) for a in axes])


def unbroadcast(x, *axes: int) -> Variable:
    """``x`` with ``axes`` declared not broadcastable."""
    return _rebroadcast(x, [(a, False) for a in axes])


def patternbroadcast(x, broadcastable: Sequence[bool]) -> Variable:
    """``x`` with the broadcastable pattern ``broadcastable``."""
    return _rebroadcast(x, list(enumerate(broadcastable)))


class Alloc(Op):
    """``alloc(value, *shape)``: value broadcast to a (symbolic) shape."""

    def make_node(self, value, *shape) -> Apply:
        value = as_tensor_variable(value)
        dims = [as_tensor_variable(s) for s in shape]
        if len(dims) < value.ndim:
            raise ValueError(f"alloc: {len(dims)} dims given for a value of {value.ndim} dims")
        static = [int(d.data) if isinstance(d, TensorConstant) else None for d in dims]
        offset = len(dims) - value.ndim
        for i, s in enumerate(value.type.shape):
            if s is not None and s != 1 and static[offset + i] is None:
                static[offset + i] = s
        return Apply(self, [value] + dims, [TensorType(value.dtype, tuple(static))()])

    def grad(self, inputs, gz):
        from .math import sum as sum_

        value, g = inputs[0], gz[0]
        lead = g.ndim - value.ndim
        axes = list(range(lead)) + [lead + d for d in range(value.ndim)
                                    if value.type.shape[d] == 1 and g.type.shape[lead + d] != 1]
        gv = sum_(g, axis=axes, keepdims=True) if axes else g
        if lead:
            gv = dimshuffle(gv, [lead + d for d in range(value.ndim)]) if all(
                gv.type.shape[d] == 1 for d in range(lead)) else sum_(gv, axis=list(range(lead)))
        return [gv] + [None] * (len(inputs) - 1)


alloc = Alloc()


def zeros(shape, dtype: str | None = None) -> Variable:
    """A tensor of zeros of a (symbolic) shape."""
    from ..config import config

    shape = [shape] if not isinstance(shape, (list, tuple)) else shape
    return alloc(constant(0, dtype=dtype or config.floatX), *shape)


def ones(shape, dtype: str | None = None) -> Variable:
    """A tensor of ones of a (symbolic) shape."""
    from ..config import config

    shape = [shape] if not isinstance(shape, (list, tuple)) else shape
    return alloc(constant(1, dtype=dtype or config.floatX), *shape)
