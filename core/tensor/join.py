"""Joining and generating: concatenate, stack, split, repeat, tile, arange, eye."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..graph.basic import Apply, Constant, Op, Variable
from ..graph.trace import format_trace, user_frame
from .type import TensorType
from .variable import as_tensor_variable


def _axis(axis: int, ndim: int, name: str) -> int:
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for tensors of {ndim} dimensions, "
                         f"at {format_trace(user_frame())}")
    return int(axis) % ndim


def _int_scalar(v, name: str) -> Variable:
    from .math import cast

    v = as_tensor_variable(v)
    if v.ndim != 0 or np.dtype(v.dtype).kind not in "iu":
        raise TypeError(f"{name}: expected an integer scalar, got {v} ({v.type}), at "
                        f"{format_trace(user_frame())}")
    return cast(v, "int64")


def _const(v: Variable):
    return v.data if isinstance(v, Constant) else None


class Join(Op):
    """Concatenate tensors of equal rank along ``axis``."""

    __props__ = ("axis",)

    def __init__(self, axis: int):
        self.axis = int(axis)

    def make_node(self, *xs) -> Apply:
        from .math import cast

        xs = [as_tensor_variable(x) for x in xs]
        if not xs:
            raise ValueError("concatenate: needs at least one tensor")
        ndim = xs[0].ndim
        if ndim == 0 or any(x.ndim != ndim for x in xs):
            raise ValueError(f"concatenate: all tensors need the same number (>= 1) of dimensions, "
                             f"got {[str(x.type) for x in xs]}, at {format_trace(user_frame())}")
        dtype = str(np.result_type(*[np.dtype(x.dtype) for x in xs]))
        xs = [cast(x, dtype) for x in xs]
        shape = []
        for d in range(ndim):
            dims = [x.type.shape[d] for x in xs]
            if d == self.axis:
                shape.append(None if None in dims else sum(dims))
                continue
            known = {s for s in dims if s is not None}
            if len(known) > 1:
                raise ValueError(f"concatenate: shapes {[x.type.shape for x in xs]} differ in axis "
                                 f"{d} (joining along {self.axis}), at {format_trace(user_frame())}")
            shape.append(known.pop() if known else None)
        return Apply(self, xs, [TensorType(dtype, tuple(shape))()])

    def grad(self, inputs, gz):
        from .shape_ops import shape_i, stack_scalars

        if np.dtype(gz[0].dtype).kind not in "fc":
            return [None] * len(inputs)
        if len(inputs) == 1:
            return [gz[0]]
        sizes = stack_scalars([shape_i(x, self.axis) for x in inputs], "int64")
        parts = Split(len(inputs), self.axis)(gz[0], sizes)
        return list(parts)


class Split(Op):
    """Split ``x`` along ``axis`` into ``n_splits`` pieces of the given (symbolic) sizes."""

    __props__ = ("n_splits", "axis")

    def __init__(self, n_splits: int, axis: int):
        self.n_splits = int(n_splits)
        self.axis = int(axis)

    def make_node(self, x, sizes) -> Apply:
        x, sizes = as_tensor_variable(x), as_tensor_variable(sizes)
        if sizes.ndim != 1 or np.dtype(sizes.dtype).kind not in "iu":
            raise TypeError(f"split: the sizes must be an integer vector, got {sizes.type}")
        known = _const(sizes)
        if known is None and sizes.owner is not None and type(sizes.owner.op).__name__ == "MakeVector":
            known = [_const(i) for i in sizes.owner.inputs]
        if known is not None and len(known) != self.n_splits:
            raise ValueError(f"split: {len(known)} sizes given for {self.n_splits} splits, at "
                             f"{format_trace(user_frame())}")
        outs = []
        for k in range(self.n_splits):
            shape = list(x.type.shape)
            shape[self.axis] = None if known is None or known[k] is None else int(known[k])
            outs.append(TensorType(x.dtype, tuple(shape))())
        if known is not None and None not in list(known) and x.type.shape[self.axis] is not None \
                and int(np.sum(known)) != x.type.shape[self.axis]:
            raise ValueError(f"split: sizes {list(known)} do not add up to {x.type.shape[self.axis]}, "
                             f"the size of axis {self.axis}, at {format_trace(user_frame())}")
        return Apply(self, [x, sizes], outs)

    def grad(self, inputs, gz):
        if np.dtype(inputs[0].dtype).kind not in "fc":
            return [None, None]
        return [Join(self.axis)(*gz), None]


def concatenate(tensors: Sequence, axis: int = 0) -> Variable:
    """Join tensors along an existing axis, as ``numpy.concatenate``.

    Examples
    --------
    >>> z = T.concatenate([x, y], axis=1)
    """
    tensors = [as_tensor_variable(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    return Join(_axis(axis, max(tensors[0].ndim, 1), "concatenate"))(*tensors)


def stack(tensors: Sequence, axis: int = 0) -> Variable:
    """Join tensors of one shape along a new axis, as ``numpy.stack``.

    Examples
    --------
    >>> z = T.stack([x, y], axis=1)
    """
    from .shape_ops import dimshuffle

    tensors = [as_tensor_variable(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    ndim = tensors[0].ndim
    if any(t.ndim != ndim for t in tensors):
        raise ValueError(f"stack: all tensors need the same number of dimensions, got "
                         f"{[str(t.type) for t in tensors]}, at {format_trace(user_frame())}")
    axis = _axis(axis, ndim + 1, "stack")
    pattern = list(range(ndim))
    pattern.insert(axis, "x")
    return Join(axis)(*[dimshuffle(t, pattern) for t in tensors])


def split(x, splits_size, n_splits: int, axis: int = 0) -> list[Variable]:
    """Split ``x`` along ``axis`` into ``n_splits`` pieces of sizes ``splits_size`` (Theano's API).

    Examples
    --------
    >>> a, b = T.split(x, [2, 3], 2, axis=0)
    """
    from .shape_ops import as_shape_vector

    x = as_tensor_variable(x)
    sizes = as_shape_vector(splits_size)
    out = Split(n_splits, _axis(axis, x.ndim, "split"))(x, sizes)
    return out if isinstance(out, list) else [out]


class Repeat(Op):
    """``numpy.repeat`` along one axis; ``repeats`` is an integer scalar or vector."""

    __props__ = ("axis",)

    def __init__(self, axis: int):
        self.axis = int(axis)

    def make_node(self, x, repeats) -> Apply:
        x, repeats = as_tensor_variable(x), as_tensor_variable(repeats)
        if repeats.ndim > 1 or np.dtype(repeats.dtype).kind not in "iu":
            raise TypeError(f"repeat: repeats must be an integer scalar or vector, got {repeats.type}")
        n, r = x.type.shape[self.axis], _const(repeats)
        if repeats.ndim == 1 and n is not None and repeats.type.shape[0] not in (None, n, 1):
            raise ValueError(f"repeat: {repeats.type.shape[0]} repeats for an axis of size {n}, at "
                             f"{format_trace(user_frame())}")
        shape = list(x.type.shape)
        if r is None:
            shape[self.axis] = None
        elif repeats.ndim == 0 or r.size == 1:
            shape[self.axis] = None if n is None else n * int(r.ravel()[0])
        else:
            shape[self.axis] = int(r.sum())
        return Apply(self, [x, repeats], [TensorType(x.dtype, tuple(shape))()])

    def grad(self, inputs, gz):
        from .math import zeros_like
        from .subtensor import inc_subtensor

        x, repeats = inputs
        if np.dtype(x.dtype).kind not in "fc":
            return [None, None]
        from .shape_ops import shape_i  # not x.shape: a Keras-shaped subclass has a tuple

        source = Repeat(0)(arange(shape_i(x, self.axis)), repeats)  # input index of each output
        index = (slice(None),) * self.axis + (source,)
        return [inc_subtensor(zeros_like(x)[index], gz[0]), None]


def repeat(x, repeats, axis: int | None = None) -> Variable:
    """Repeat elements of ``x``, as ``numpy.repeat`` (``axis=None`` flattens first).

    Examples
    --------
    >>> T.repeat(x, 2, axis=1); T.repeat(v, [1, 0, 3])
    """
    x = as_tensor_variable(x)
    if axis is None:
        x, axis = x.flatten(), 0
    repeats = as_tensor_variable(repeats if not isinstance(repeats, (list, tuple)) else
                                 np.asarray(repeats, dtype="int64"))
    return Repeat(_axis(axis, x.ndim, "repeat"))(x, repeats)


def tile(x, reps) -> Variable:
    """Repeat the whole of ``x`` ``reps[i]`` times along each axis, as ``numpy.tile``.

    ``reps`` holds ints or integer scalars; a shorter ``reps`` tiles the last axes.

    Examples
    --------
    >>> T.tile(x, (2, 3))
    """
    from .shape_ops import alloc, dimshuffle, reshape, shape_i

    x = as_tensor_variable(x)
    reps = list(reps) if isinstance(reps, (list, tuple)) else [reps]
    if len(reps) > x.ndim:  # numpy prepends axes of size 1
        x = dimshuffle(x, ["x"] * (len(reps) - x.ndim) + list(range(x.ndim)))
    reps = [1] * (x.ndim - len(reps)) + reps
    reps = [r if isinstance(r, (int, np.integer)) else _int_scalar(r, "tile") for r in reps]
    pattern, dims, final = [], [], []
    for d, r in enumerate(reps):
        pattern += ["x", d]
        n = shape_i(x, d)
        dims += [r, n]
        if isinstance(r, (int, np.integer)) and isinstance(n, Constant):
            final.append(int(r) * int(n.data))
        else:
            final.append(n if isinstance(r, (int, np.integer)) and r == 1 else n * r)
    tiled = alloc(dimshuffle(x, pattern), *dims)
    return reshape(tiled, final, ndim=x.ndim)


class ARange(Op):
    """``numpy.arange(start, stop, step)`` of ``dtype``."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str):
        self.dtype = str(np.dtype(dtype))

    def make_node(self, start, stop, step) -> Apply:
        args = [as_tensor_variable(a) for a in (start, stop, step)]
        for a in args:
            if a.ndim != 0:
                raise TypeError(f"arange: start, stop and step must be scalars, got {a.type}")
        values = [_const(a) for a in args]
        length = None
        if None not in values:
            if values[2] == 0:
                raise ValueError(f"arange: step cannot be zero, at {format_trace(user_frame())}")
            length = len(np.arange(*[v.item() for v in values]))
        return Apply(self, args, [TensorType(self.dtype, (length,))()])

    def grad(self, inputs, gz):
        return [None, None, None]


def arange(start, stop=None, step=1, dtype: str | None = None) -> Variable:
    """Evenly spaced values in ``[start, stop)``, as ``numpy.arange``; bounds may be symbolic.

    Integers give int64, floats give ``config.floatX`` (unless ``dtype`` says otherwise).

    Examples
    --------
    >>> T.arange(5); T.arange(n); T.arange(0.0, 1.0, 0.25)
    """
    from ..config import config
    from .elemwise import as_tensors_weak

    if stop is None:
        start, stop = 0, start
    args = as_tensors_weak([start, stop, step])
    if dtype is None:
        kinds = [np.dtype(a.dtype).kind for a in args]
        if all(k in "biu" for k in kinds):
            dtype = "int64"
        else:
            dtype = str(np.result_type(*[np.dtype(a.dtype) for a in args]))
            if not any(isinstance(a, Variable) and np.dtype(a.dtype).kind == "f"
                       for a in (start, stop, step)):
                dtype = config.floatX
    return ARange(dtype)(*args)


class Eye(Op):
    """An ``n x m`` matrix with ones on diagonal ``k``, as ``numpy.eye``."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str):
        self.dtype = str(np.dtype(dtype))

    def make_node(self, n, m, k) -> Apply:
        n, m, k = (_int_scalar(a, "eye") for a in (n, m, k))
        shape = tuple(None if _const(a) is None else int(_const(a)) for a in (n, m))
        return Apply(self, [n, m, k], [TensorType(self.dtype, shape)()])

    def grad(self, inputs, gz):
        return [None, None, None]


def eye(n, m=None, k=0, dtype: str | None = None) -> Variable:
    """Identity-like matrix: ones on diagonal ``k`` of an ``n x m`` matrix.

    Examples
    --------
    >>> T.eye(3); T.eye(n, n, 1, dtype='int32')
    """
    from ..config import config

    return Eye(dtype or config.floatX)(n, n if m is None else m, k)
