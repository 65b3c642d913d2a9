"""Still more of ``keras.ops``'s numpy-like functions: windows, quantiles, searching,
scatter, and the rarer shape helpers."""
from __future__ import annotations

import numpy as np

import core.tensor as T

from .. import backend
from .dispatch import keras_op
from .numpy import _floatx_if_int, _t
from .numpy_arrays import split
from .numpy_composed import sort


def _window(np_fn, name: str):
    def op(x, *args):
        return T.constant(np_fn(int(x), *args).astype(backend.floatx()))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"The {name} window of ``x`` points (as ``numpy.{name}``)."
    return keras_op(op)


bartlett = _window(np.bartlett, "bartlett")
blackman = _window(np.blackman, "blackman")
hamming = _window(np.hamming, "hamming")
hanning = _window(np.hanning, "hanning")
kaiser = _window(np.kaiser, "kaiser")


@keras_op
def geomspace(start, stop, num: int = 50, endpoint: bool = True, dtype=None):
    """``num`` values evenly spaced on a log scale from ``start`` to ``stop``."""
    dtype = str(np.dtype(dtype or backend.floatx()))
    div = max((num - 1) if endpoint else num, 1)
    steps = T.cast(T.arange(num), "float64")
    log_start, log_stop = np.log(start), np.log(stop)
    return T.cast(T.exp(log_start + steps * ((log_stop - log_start) / div)), dtype)


@keras_op
def diagflat(x, k: int = 0):
    """A matrix with the flattened ``x`` on its ``k``-th diagonal."""
    from .numpy_arrays import diag

    return diag.symbolic(T.flatten(_t(x)), k)


@keras_op
def dstack(xs):
    """Stacked along the third axis (1-d and 2-d inputs gain axes first, as numpy)."""
    out = []
    for x in (_t(x) for x in xs):
        if x.ndim == 1:
            x = T.dimshuffle(x, ("x", 0, "x"))
        elif x.ndim == 2:
            x = T.dimshuffle(x, (0, 1, "x"))
        out.append(x)
    return T.concatenate(out, axis=2)


@keras_op
def dsplit(x, indices_or_sections):
    return split.symbolic(x, indices_or_sections, axis=2)


@keras_op
def array_split(x, indices_or_sections, axis: int = 0):
    """``n`` nearly equal pieces along ``axis`` (the first ones one longer), as numpy."""
    x = _t(x)
    size = x.type.shape[axis]
    n = int(indices_or_sections)
    if size is None:
        raise ValueError(f"array_split: axis {axis} of {x.type} needs a static size")
    lengths = [size // n + (1 if k < size % n else 0) for k in range(n)]
    return split.symbolic(x, list(np.cumsum(lengths)[:-1]), axis=axis)


@keras_op
def imag(x):
    return T.zeros_like(_t(x))


@keras_op
def isreal(x):
    return T.ones_like(_t(x), dtype="bool")


def _nan_moment(x, axis, keepdims, root: bool):
    x = _floatx_if_int(x)
    valid = T.invert(T.isnan(x))
    count = T.sum(T.cast(valid, x.dtype), axis=axis, keepdims=True)
    mean = T.sum(T.switch(valid, x, 0.0), axis=axis, keepdims=True) / count
    sq = T.switch(valid, T.sqr(x - mean), 0.0)
    out = T.sum(sq, axis=axis, keepdims=keepdims) / (count if keepdims else T.sum(
        T.cast(valid, x.dtype), axis=axis))
    return T.sqrt(out) if root else out


@keras_op
def nanvar(x, axis=None, keepdims: bool = False):
    """Variance over ``axis``, ignoring NaN."""
    return _nan_moment(x, axis, keepdims, False)


@keras_op
def nanstd(x, axis=None, keepdims: bool = False):
    """Standard deviation over ``axis``, ignoring NaN."""
    return _nan_moment(x, axis, keepdims, True)


@keras_op
def quantile(x, q, axis=None, method: str = "linear", keepdims: bool = False):
    """The ``q``-th quantiles (linear interpolation) over ``axis`` (None: all)."""
    if method != "linear":
        raise ValueError(f"quantile: only method='linear' is supported, got {method!r}")
    x = _floatx_if_int(x)
    if axis is None:
        flat, axis_, keep_shape = T.flatten(x), 0, (1,) * x.ndim
    else:
        axis_ = axis % x.ndim
        flat, keep_shape = x, None
    n = flat.type.shape[axis_]
    if n is None:
        raise ValueError(f"quantile: the reduced axis of {x.type} needs a static size")
    ordered = T.transpose(sort.symbolic(flat, axis_),
                          [axis_] + [d for d in range(flat.ndim) if d != axis_])
    qs = np.atleast_1d(np.asarray(q, dtype="float64"))
    outs = []
    for value in qs:
        pos = value * (n - 1)
        lo, hi = int(np.floor(pos)), int(np.ceil(pos))
        outs.append(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))
    out = T.stack(outs) if np.ndim(q) else outs[0]
    if keepdims:
        lead = [0] if np.ndim(q) else []
        if keep_shape is not None:
            out = T.reshape(out, tuple([len(qs)] if np.ndim(q) else []) + keep_shape)
        else:
            rest = list(range(len(lead), out.ndim))
            pattern = lead + rest[:axis_] + ["x"] + rest[axis_:]
            out = T.dimshuffle(out, pattern)
    return out


@keras_op
def percentile(x, q, axis=None, method: str = "linear", keepdims: bool = False):
    """The ``q``-th percentiles over ``axis``."""
    return quantile.symbolic(x, np.asarray(q, dtype="float64") / 100.0, axis, method, keepdims)


@keras_op
def median(x, axis=None, keepdims: bool = False):
    """The median over ``axis`` (None: all)."""
    return quantile.symbolic(x, 0.5, axis, "linear", keepdims)


@keras_op
def searchsorted(sorted_sequence, values, side: str = "left"):
    """Insertion points of ``values`` in the 1-d ``sorted_sequence``."""
    seq, v = _t(sorted_sequence), _t(values)
    pattern = list(range(v.ndim)) + ["x"]
    cmp = T.lt if side == "left" else T.le
    return T.cast(T.sum(T.cast(cmp(T.dimshuffle(seq, ["x"] * v.ndim + [0]),
                                   T.dimshuffle(v, pattern)), "int64"), axis=-1), "int32")


@keras_op
def digitize(x, bins):
    """The index of the bin of each value (increasing ``bins``, as numpy)."""
    return searchsorted.symbolic(bins, x, side="right")


@keras_op
def isin(x1, x2, assume_unique: bool = False, invert: bool = False):
    """True where an element of ``x1`` occurs in ``x2``."""
    a, b = _t(x1), T.flatten(_t(x2))
    found = T.any(T.eq(T.dimshuffle(a, list(range(a.ndim)) + ["x"]),
                       T.dimshuffle(b, ["x"] * a.ndim + [0])), axis=-1)
    return T.invert(found) if invert else found


@keras_op
def vander(x, N=None, increasing: bool = False):
    """The Vandermonde matrix of the 1-d ``x``."""
    x = _floatx_if_int(x)
    n = x.type.shape[0] if N is None else N
    powers = np.arange(n) if increasing else np.arange(n)[::-1]
    return T.dimshuffle(x, (0, "x")) ** T.constant(powers.astype(x.dtype))


@keras_op
def unravel_index(indices, shape):
    """The coordinates of flat ``indices`` in an array of ``shape``."""
    idx = T.cast(_t(indices), "int64")
    strides = np.cumprod((1,) + tuple(shape[::-1]))[:-1][::-1]
    return tuple(T.mod(T.floor_div(idx, int(s)), int(d)) for s, d in zip(strides, shape))


@keras_op
def scatter(indices, values, shape):
    """An array of ``shape``, zero but for ``values`` added at ``indices`` (rows of
    coordinates)."""
    idx = T.cast(_t(indices), "int64")
    vals = _t(values)
    coords = tuple(idx[:, k] for k in range(idx.type.shape[-1]))
    return T.inc_subtensor(T.zeros(tuple(shape), dtype=vals.dtype)[coords], vals)


@keras_op
def scatter_update(inputs, indices, updates):
    """``inputs`` with the elements at ``indices`` (rows of coordinates) set to ``updates``."""
    x = _t(inputs)
    idx = T.cast(_t(indices), "int64")
    coords = tuple(idx[:, k] for k in range(idx.type.shape[-1]))
    return T.set_subtensor(x[coords], updates)


@keras_op
def cdist(x, y, p: float = 2.0):
    """Pairwise ``p``-norm (Keras: Euclidean) distances between the rows of ``x`` and ``y``."""
    a, b = _floatx_if_int(x), _floatx_if_int(y)
    diff = T.abs(T.dimshuffle(a, list(range(a.ndim - 1)) + ["x", a.ndim - 1])
                 - T.dimshuffle(b, list(range(b.ndim - 2)) + ["x", b.ndim - 2, b.ndim - 1]))
    if p == 2.0:
        return T.sqrt(T.sum(T.sqr(diff), axis=-1))
    if p == 1.0:
        return T.sum(diff, axis=-1)
    return T.sum(diff ** p, axis=-1) ** (1.0 / p)
