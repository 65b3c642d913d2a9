"""``keras.ops``'s numpy-like array creation and shape manipulation."""
from __future__ import annotations

import builtins

import numpy as np

import core.tensor as T

from .. import backend
from .dispatch import keras_op
from .numpy import _axes, _dim, _shape_arg, _t

# ----- creation -----
@keras_op
def zeros(shape, dtype=None):
    return T.zeros(_shape_arg(shape), dtype=str(np.dtype(dtype or backend.floatx())))


@keras_op
def ones(shape, dtype=None):
    return T.ones(_shape_arg(shape), dtype=str(np.dtype(dtype or backend.floatx())))


@keras_op
def full(shape, fill_value, dtype=None):
    dtype = str(np.dtype(dtype or backend.floatx()))
    return T.zeros(_shape_arg(shape), dtype=dtype) + T.cast(_t(fill_value), dtype)


@keras_op
def zeros_like(x, dtype=None):
    return T.zeros_like(_t(x), dtype=str(np.dtype(dtype)) if dtype else None)


@keras_op
def ones_like(x, dtype=None):
    return T.ones_like(_t(x), dtype=str(np.dtype(dtype)) if dtype else None)


@keras_op
def full_like(x, fill_value, dtype=None):
    x = _t(x)
    dtype = str(np.dtype(dtype)) if dtype else x.dtype
    return T.zeros_like(x, dtype=dtype) + T.cast(_t(fill_value), dtype)


empty = zeros


@keras_op
def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in ``[start, stop)``, as ``numpy.arange`` (float: floatx)."""
    if dtype is None:
        kinds = [np.asarray(v).dtype.kind for v in (start, stop, step) if v is not None
                 and not isinstance(v, T.TensorVariable)]
        dtype = backend.floatx() if "f" in kinds else "int32"
    return T.arange(start, stop, step, dtype=str(np.dtype(dtype)))


@keras_op
def linspace(start, stop, num: int = 50, endpoint: bool = True, dtype=None):
    """``num`` evenly spaced values from ``start`` to ``stop``."""
    dtype = str(np.dtype(dtype or backend.floatx()))
    div = (num - 1) if endpoint else num
    steps = T.cast(T.arange(num), dtype)
    return T.cast(start + steps * ((stop - start) / builtins.max(div, 1)), dtype)


@keras_op
def eye(N: int, M=None, k: int = 0, dtype=None):
    return T.eye(N, M, k, dtype=str(np.dtype(dtype or backend.floatx())))


def identity(n: int, dtype=None):
    """The ``n`` by ``n`` identity matrix."""
    return eye(n, dtype=dtype)


@keras_op
def tri(N: int, M=None, k: int = 0, dtype=None):
    """Ones on and below the ``k``-th diagonal."""
    mask = np.tri(N, M, k)
    return T.constant(mask.astype(np.dtype(dtype or backend.floatx())))


def _tri_mask(x, k: int, lower: bool):
    rows, cols = _dim(x, -2), _dim(x, -1)
    r = T.dimshuffle(T.arange(rows), (0, "x"))
    c = T.dimshuffle(T.arange(cols), ("x", 0))
    return T.ge(r + k, c) if lower else T.le(r + k, c)


@keras_op
def tril(x, k: int = 0):
    """``x`` with the elements above the ``k``-th diagonal zeroed."""
    x = _t(x)
    return T.switch(_tri_mask(x, k, True), x, T.zeros_like(x))


@keras_op
def triu(x, k: int = 0):
    """``x`` with the elements below the ``k``-th diagonal zeroed."""
    x = _t(x)
    return T.switch(_tri_mask(x, k, False), x, T.zeros_like(x))


# ----- shape manipulation -----
@keras_op
def reshape(x, newshape):
    """``x`` with shape ``newshape``; one unknown dimension (None or -1) is inferred."""
    x = _t(x)
    return T.reshape(x, _shape_arg(newshape))


@keras_op
def ravel(x):
    return T.flatten(_t(x))


@keras_op
def expand_dims(x, axis):
    x = _t(x)
    pattern = list(range(x.ndim))
    for a in sorted(a % (x.ndim + len(_axes_list(axis))) for a in _axes_list(axis)):
        pattern.insert(a, "x")
    return T.dimshuffle(x, pattern)


def _axes_list(axis) -> list:
    return list(axis) if isinstance(axis, (list, tuple)) else [axis]


@keras_op
def squeeze(x, axis=None):
    x = _t(x)
    if axis is None:
        drop = [d for d, s in enumerate(x.type.shape) if s == 1]
    else:
        drop = _axes(axis, x.ndim)
        for d in drop:
            if x.type.shape[d] not in (1, None):
                raise ValueError(f"squeeze: axis {d} of shape {x.type.shape} has size "
                                 f"{x.type.shape[d]}, not 1")
    if builtins.any(x.type.shape[d] is None for d in drop):
        x = T.addbroadcast(x, *drop)
    return T.dimshuffle(x, [d for d in range(x.ndim) if d not in drop])


@keras_op
def transpose(x, axes=None):
    x = _t(x)
    return T.transpose(x, axes)


@keras_op
def swapaxes(x, axis1: int, axis2: int):
    x = _t(x)
    order = list(range(x.ndim))
    a, b = axis1 % x.ndim, axis2 % x.ndim
    order[a], order[b] = order[b], order[a]
    return T.transpose(x, order)


@keras_op
def moveaxis(x, source, destination):
    x = _t(x)
    src = [s % x.ndim for s in _axes_list(source)]
    dst = [d % x.ndim for d in _axes_list(destination)]
    order = [d for d in range(x.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return T.transpose(x, order)


@keras_op
def broadcast_to(x, shape):
    x = _t(x)
    shape = _shape_arg(shape)
    x = T.dimshuffle(x, ["x"] * (len(shape) - x.ndim) + list(range(x.ndim)))
    return x + T.zeros(shape, dtype=x.dtype)


@keras_op
def concatenate(xs, axis: int = 0):
    return T.concatenate([_t(x) for x in xs], axis=axis)


@keras_op
def append(x1, x2, axis=None):
    """``x2`` appended to ``x1`` along ``axis`` (both flattened when None)."""
    if axis is None:
        return T.concatenate([T.flatten(_t(x1)), T.flatten(_t(x2))])
    return T.concatenate([_t(x1), _t(x2)], axis=axis)


@keras_op
def stack(x, axis: int = 0):
    return T.stack([_t(e) for e in x], axis=axis)


@keras_op
def hstack(xs):
    xs = [_t(x) for x in xs]
    return T.concatenate(xs, axis=0 if xs[0].ndim == 1 else 1)


@keras_op
def vstack(xs):
    xs = [_t(x) for x in xs]
    return T.concatenate([T.dimshuffle(x, ("x", 0)) if x.ndim == 1 else x for x in xs], axis=0)


@keras_op
def split(x, indices_or_sections, axis: int = 0):
    """Pieces of ``x`` along ``axis``: ``n`` equal sections or split at indices."""
    x = _t(x)
    axis = axis % x.ndim
    size = x.type.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        n = int(indices_or_sections)
        if size is None or size % n:
            raise ValueError(f"split: axis {axis} of shape {x.type.shape} does not split into "
                             f"{n} equal sections")
        bounds = [size // n * k for k in range(n + 1)]
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [size]
    index = [slice(None)] * x.ndim
    pieces = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        index[axis] = slice(lo, hi)
        pieces.append(x[tuple(index)])
    return pieces


@keras_op
def tile(x, repeats):
    x = _t(x)
    reps = list(_axes_list(repeats))
    if len(reps) > x.ndim:
        x = T.dimshuffle(x, ["x"] * (len(reps) - x.ndim) + list(range(x.ndim)))
    return T.tile(x, reps)


@keras_op
def repeat(x, repeats, axis=None):
    return T.repeat(_t(x), repeats, axis=axis)


@keras_op
def flip(x, axis=None):
    x = _t(x)
    axes = range(x.ndim) if axis is None else _axes(axis, x.ndim)
    index = [slice(None)] * x.ndim
    for a in axes:
        index[a] = slice(None, None, -1)
    return x[tuple(index)]


@keras_op
def roll(x, shift: int, axis=None):
    x = _t(x)
    if axis is None:
        return T.reshape(roll.symbolic(T.flatten(x), shift, 0), T.shape(x))
    axis = axis % x.ndim
    n = x.type.shape[axis]
    if n is None:
        raise ValueError(f"roll: axis {axis} of {x.type} has no static size")
    shift = int(shift) % n if n else 0
    if not shift:
        return x
    head = [slice(None)] * x.ndim
    tail = [slice(None)] * x.ndim
    head[axis], tail[axis] = slice(n - shift, None), slice(None, n - shift)
    return T.concatenate([x[tuple(head)], x[tuple(tail)]], axis=axis)


@keras_op
def pad(x, pad_width, mode: str = "constant", constant_values=None):
    """``x`` padded with ``constant_values`` (only mode 'constant')."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    x = _t(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype="int64"), (x.ndim, 2))
    new_shape = [(_dim(x, d) + int(lo) + int(hi)) for d, (lo, hi) in enumerate(widths)]
    fill = 0 if constant_values is None else constant_values
    out = T.zeros(new_shape, dtype=x.dtype) + T.cast(_t(fill), x.dtype)
    index = tuple(slice(int(lo), int(lo) + _dim(x, d)) for d, (lo, hi) in enumerate(widths))
    return T.set_subtensor(out[index], x)


@keras_op
def take(x, indices, axis=None):
    """Elements of ``x`` at ``indices`` along ``axis`` (flattened when None)."""
    x = _t(x)
    if axis is None:
        x, axis = T.flatten(x), 0
    index = [slice(None)] * x.ndim
    index[axis % x.ndim] = T.cast(_t(indices), "int64")
    return x[tuple(index)]


@keras_op
def take_along_axis(x, indices, axis=None):
    """``x`` gathered along ``axis`` by ``indices`` of the same rank, as numpy."""
    x, indices = _t(x), T.cast(_t(indices), "int64")
    if axis is None:
        x, axis = T.flatten(x), 0
    axis = axis % x.ndim
    index = []
    for d in range(x.ndim):
        if d == axis:
            index.append(indices)
            continue
        pattern = ["x"] * x.ndim
        pattern[d] = 0
        index.append(T.dimshuffle(T.arange(_dim(indices, d)), pattern))
    return x[tuple(index)]


@keras_op
def diagonal(x, offset: int = 0, axis1: int = 0, axis2: int = 1):
    """The diagonal of the ``axis1``/``axis2`` planes, moved to the last axis."""
    x = _t(x)
    a1, a2 = axis1 % x.ndim, axis2 % x.ndim
    rest = [d for d in range(x.ndim) if d not in (a1, a2)]
    moved = T.transpose(x, rest + [a1, a2])
    n1, n2 = x.type.shape[a1], x.type.shape[a2]
    if n1 is None or n2 is None:
        raise ValueError(f"diagonal: axes {a1} and {a2} of {x.type} need static sizes")
    rows = np.arange(builtins.max(0, -offset), n1)
    rows = rows[rows + offset < n2]
    lead = (slice(None),) * len(rest)
    return moved[lead + (T.constant(rows), T.constant(rows + offset))]


@keras_op
def diag(x, k: int = 0):
    """The ``k``-th diagonal of a matrix, or a matrix with vector ``x`` on it."""
    x = _t(x)
    if x.ndim == 2:
        return diagonal.symbolic(x, k, 0, 1)
    n = x.type.shape[0]
    if n is None:
        raise ValueError(f"diag: a vector of static length is needed, got {x.type}")
    size = n + builtins.abs(k)
    rows = np.arange(n) + builtins.max(0, -k)
    out = T.zeros((size, size), dtype=x.dtype)
    return T.set_subtensor(out[T.constant(rows), T.constant(rows + k)], x)


@keras_op
def diff(a, n: int = 1, axis: int = -1):
    a = _t(a)
    axis = axis % a.ndim
    for _ in range(n):
        hi = [slice(None)] * a.ndim
        lo = [slice(None)] * a.ndim
        hi[axis], lo[axis] = slice(1, None), slice(None, -1)
        a = a[tuple(hi)] - a[tuple(lo)]
    return a


@keras_op
def trace(x, offset: int = 0, axis1: int = 0, axis2: int = 1):
    """Sum of the diagonal."""
    return T.sum(diagonal.symbolic(x, offset, axis1, axis2), axis=-1)


# ----- misc -----
@keras_op
def copy(x):
    return T.as_tensor_variable(x) * 1


@keras_op
def size(x):
    x = _t(x)
    return T.prod(T.shape(x))


@keras_op
def ndim(x):
    return _t(x).ndim


@keras_op
def meshgrid(*x, indexing: str = "xy"):
    """Coordinate matrices from 1-d vectors, as ``numpy.meshgrid``."""
    vs = [T.flatten(_t(v)) for v in x]
    n = len(vs)
    shape = [_dim(v, 0) for v in vs]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    grids = []
    for k, v in enumerate(vs):
        axis = k
        if indexing == "xy" and n >= 2 and k < 2:
            axis = 1 - k
        pattern = ["x"] * n
        pattern[axis] = 0
        grids.append(T.dimshuffle(v, pattern) + T.zeros(shape, dtype=v.dtype))
    return grids
