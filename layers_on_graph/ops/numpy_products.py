"""``keras.ops``'s numpy-like products: matmul, dot, tensordot, outer, vdot, inner."""
from __future__ import annotations

import builtins

import core.tensor as T

from .dispatch import keras_op
from .numpy import _dim, _t

# ----- products -----
@keras_op
def matmul(x1, x2):
    """Matrix product with numpy's batch broadcasting rules (batch shapes must match)."""
    x1, x2 = _t(x1), _t(x2)
    if x1.ndim <= 2 and x2.ndim <= 2:
        return T.dot(x1, x2)
    if x2.ndim == 2:  # static sizes kept where known, so the result's type knows them
        lead = [_dim(x1, d) for d in range(x1.ndim - 1)]
        flat = T.reshape(x1, (-1, _dim(x1, -1)))
        return T.reshape(T.dot(flat, x2), lead + [_dim(x2, 1)], ndim=x1.ndim)
    if x1.ndim != x2.ndim:
        raise ValueError(f"matmul: batch ranks differ ({x1.type} @ {x2.type})")
    if x1.ndim == 3:
        out = T.batched_dot(x1, x2)
        return T.reshape(out, [_dim(x1, 0), _dim(x1, 1), _dim(x2, 2)], ndim=3)
    lead = [_dim(x1, d) for d in range(x1.ndim - 2)]
    a = T.reshape(x1, (-1, _dim(x1, -2), _dim(x1, -1)))
    b = T.reshape(x2, (-1, _dim(x2, -2), _dim(x2, -1)))
    out = T.batched_dot(a, b)
    return T.reshape(out, lead + [_dim(x1, -2), _dim(x2, -1)], ndim=x1.ndim)


@keras_op
def dot(x1, x2):
    """``numpy.dot``: for N-d tensors a sum over the last axis of x1 and the second-to-last
    of x2."""
    x1, x2 = _t(x1), _t(x2)
    if x1.ndim <= 2 and x2.ndim <= 2:
        return T.dot(x1, x2)
    return T.tensordot(x1, x2, axes=[[x1.ndim - 1], [builtins.max(x2.ndim - 2, 0)]])


@keras_op
def tensordot(x1, x2, axes=2):
    return T.tensordot(_t(x1), _t(x2), axes=axes)


@keras_op
def outer(x1, x2):
    return T.outer(T.flatten(_t(x1)), T.flatten(_t(x2)))


@keras_op
def vdot(x1, x2):
    return T.sum(T.flatten(_t(x1)) * T.flatten(_t(x2)))


@keras_op
def inner(x1, x2):
    """Sum product over the last axes, as ``numpy.inner``."""
    x1, x2 = _t(x1), _t(x2)
    if x1.ndim == 0 or x2.ndim == 0:
        return x1 * x2
    return T.tensordot(x1, x2, axes=[[x1.ndim - 1], [x2.ndim - 1]])
