"""``keras.ops`` math functions: erf, rsqrt, logsumexp."""
from __future__ import annotations

import core.tensor as T

from .dispatch import keras_op
from .numpy import _floatx_if_int


@keras_op
def erf(x):
    """The error function elementwise."""
    return T.erf(_floatx_if_int(x))


@keras_op
def rsqrt(x):
    """``1 / sqrt(x)`` elementwise."""
    return T.reciprocal(T.sqrt(_floatx_if_int(x)))


@keras_op
def logsumexp(x, axis=None, keepdims: bool = False):
    """``log(sum(exp(x)))`` over ``axis``, without overflow."""
    x = _floatx_if_int(x)
    top = T.max(x, axis=axis, keepdims=True)
    out = T.log(T.sum(T.exp(x - top), axis=axis, keepdims=True)) + top
    if keepdims:
        return out
    return T.sum(out, axis=axis) if axis is not None else T.reshape(out, ())
