"""Products beyond ``dot``: ``tensordot``, ``batched_dot``, ``outer``."""
from __future__ import annotations

import numpy as np

from ..graph.basic import Apply, Constant, Op, Variable
from ..graph.trace import format_trace, user_frame
from .math import cast, dot, outer  # noqa: F401  (outer is re-exported here)
from .math import sum as sum_
from .shape_ops import dimshuffle, reshape, shape_i
from .type import TensorType
from .variable import as_tensor_variable


def _size(dims: list) -> Variable | int:
    """The product of axis sizes, a Python int when all are static."""
    if all(isinstance(d, Constant) for d in dims):
        return int(np.prod([int(d.data) for d in dims], dtype=np.int64))
    out = dims[0]
    for d in dims[1:]:
        out = out * d
    return out


def _normalize_axes(a: Variable, b: Variable, axes) -> tuple[list[int], list[int]]:
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: cannot sum over {n} axes of tensors with {a.ndim} and "
                             f"{b.ndim} dimensions, at {format_trace(user_frame())}")
        return list(range(a.ndim - n, a.ndim)), list(range(n))
    if len(axes) != 2:
        raise ValueError(f"tensordot: axes must be an int or a pair of axis lists, got {axes!r}")
    ax_a, ax_b = ([x] if isinstance(x, (int, np.integer)) else list(x) for x in axes)
    if len(ax_a) != len(ax_b):
        raise ValueError(f"tensordot: {len(ax_a)} axes of the first tensor paired with "
                         f"{len(ax_b)} of the second, at {format_trace(user_frame())}")
    for ax, t in ((ax_a, a), (ax_b, b)):
        for i in ax:
            if not -t.ndim <= i < t.ndim:
                raise ValueError(f"tensordot: axis {i} out of range for {t.type}, at "
                                 f"{format_trace(user_frame())}")
    return [int(i) % a.ndim for i in ax_a], [int(i) % b.ndim for i in ax_b]


def tensordot(a, b, axes=2) -> Variable:
    """Sum products over the given axes, as ``numpy.tensordot``.

    Built from transpose, reshape and one matrix product, so its gradient comes for free.

    Examples
    --------
    >>> T.tensordot(x, w, axes=[[1, 2], [0, 1]])
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    ax_a, ax_b = _normalize_axes(a, b, axes)
    for i, j in zip(ax_a, ax_b):
        n, m = a.type.shape[i], b.type.shape[j]
        if n is not None and m is not None and n != m:
            raise ValueError(f"tensordot: axis {i} of {a.type} (size {n}) does not match axis {j} "
                             f"of {b.type} (size {m}), at {format_trace(user_frame())}")
    free_a = [d for d in range(a.ndim) if d not in ax_a]
    free_b = [d for d in range(b.ndim) if d not in ax_b]
    dims_a = [shape_i(a, d) for d in free_a]
    dims_b = [shape_i(b, d) for d in free_b]
    summed = [shape_i(a, d) for d in ax_a]
    k = _size(summed) if summed else 1
    a2 = reshape(dimshuffle(a, free_a + ax_a), [_size(dims_a) if dims_a else 1, k], ndim=2)
    b2 = reshape(dimshuffle(b, ax_b + free_b), [k, _size(dims_b) if dims_b else 1], ndim=2)
    out = dot(a2, b2)
    return reshape(out, dims_a + dims_b, ndim=len(dims_a) + len(dims_b))


class BatchedDot(Op):
    """Matrix product per batch entry: ``(B, m, n) x (B, n, p) -> (B, m, p)``.

    A batch axis of static size 1 broadcasts against the other's (``(1, m, n) x (B, n, p)``:
    one matrix times each of a batch, with no copy of it per entry); its gradient is then
    summed over the batch.
    """

    def make_node(self, x, y) -> Apply:
        x, y = as_tensor_variable(x), as_tensor_variable(y)
        if x.ndim != 3 or y.ndim != 3:
            raise TypeError(f"BatchedDot takes two 3-d tensors, got {x.type} and {y.type}")
        for (i, j) in ((0, 0), (2, 1)):
            n, m = x.type.shape[i], y.type.shape[j]
            if n is not None and m is not None and n != m and not (i == 0 and 1 in (n, m)):
                raise ValueError(f"batched_dot: shapes {x.type.shape} and {y.type.shape} do not "
                                 f"match (axis {i} vs {j}), at {format_trace(user_frame())}")
        dtype = str(np.result_type(np.dtype(x.dtype), np.dtype(y.dtype)))
        bx, by = x.type.shape[0], y.type.shape[0]
        batch = by if bx == 1 else bx if by == 1 or by is None else by
        shape = (batch, x.type.shape[1], y.type.shape[2])
        return Apply(self, [x, y], [TensorType(dtype, shape)()])

    def grad(self, inputs, gz):
        (x, y), (g,) = inputs, gz
        gx = _batched_dot(g, dimshuffle(y, (0, 2, 1)))
        gy = _batched_dot(dimshuffle(x, (0, 2, 1)), g)
        # a broadcast batch of 1 gets the sum over the batch it met
        if x.type.shape[0] == 1 and y.type.shape[0] != 1:
            gx = sum_(gx, axis=0, keepdims=True)
        if y.type.shape[0] == 1 and x.type.shape[0] != 1:
            gy = sum_(gy, axis=0, keepdims=True)
        return [cast(gx, x.dtype), cast(gy, y.dtype)]


_batched_dot = BatchedDot()


def batched_dot(x, y) -> Variable:
    """``dot`` of each pair ``x[i], y[i]`` along the first (batch) axis, as Theano's.

    ``x`` and ``y`` are 2-d (a batch of vectors) or 3-d (a batch of matrices). A 3-d
    operand whose batch axis has static size 1 (e.g. ``w.dimshuffle('x', 0, 1)``) is
    broadcast: the same matrix multiplies every entry of the other's batch.

    Examples
    --------
    >>> T.batched_dot(a, b)   # (B, m, n), (B, n, p) -> (B, m, p)
    """
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.ndim not in (2, 3) or y.ndim not in (2, 3):
        raise TypeError(f"batched_dot: expected 2-d or 3-d tensors, got {x.type} and {y.type}, "
                        f"at {format_trace(user_frame())}")
    x3 = dimshuffle(x, (0, "x", 1)) if x.ndim == 2 else x
    y3 = dimshuffle(y, (0, 1, "x")) if y.ndim == 2 else y
    out = _batched_dot(x3, y3)
    keep = [0] + ([1] if x.ndim == 3 else []) + ([2] if y.ndim == 3 else [])
    return dimshuffle(out, keep)

