"""``keras.ops`` math functions: erf, rsqrt, logsumexp, segments, top_k."""
from __future__ import annotations

import numpy as np

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


def _segment(data, segment_ids, num_segments, combine: str):
    data = _floatx_if_int(data)
    if num_segments is None:
        raise ValueError(f"segment_{combine}: pass num_segments (the output size must be known)")
    ids = T.cast(T.as_tensor_variable(segment_ids), "int64")
    member = T.eq(T.dimshuffle(ids, (0, "x")), T.dimshuffle(T.arange(num_segments), ("x", 0)))
    member = T.dimshuffle(member, [0, 1] + ["x"] * (data.ndim - 1))  # (n, segments, ...)
    values = T.dimshuffle(data, [0, "x"] + list(range(1, data.ndim)))
    if combine == "sum":
        return T.sum(T.switch(member, values, 0.0), axis=0)
    if combine == "prod":
        return T.prod(T.switch(member, values, 1.0), axis=0)
    if combine == "min":
        return T.min(T.switch(member, values, np.inf), axis=0)
    return T.max(T.switch(member, values, -np.inf), axis=0)


@keras_op
def segment_sum(data, segment_ids, num_segments=None, sorted: bool = False):
    """Sums of the rows of ``data`` sharing each segment id."""
    return _segment(data, segment_ids, num_segments, "sum")


@keras_op
def segment_max(data, segment_ids, num_segments=None, sorted: bool = False):
    """Maxima of the rows of ``data`` sharing each segment id (-inf for empty segments)."""
    return _segment(data, segment_ids, num_segments, "max")


@keras_op
def segment_min(data, segment_ids, num_segments=None, sorted: bool = False):
    """Minima of the rows of ``data`` sharing each segment id (inf for empty segments)."""
    return _segment(data, segment_ids, num_segments, "min")


@keras_op
def segment_prod(data, segment_ids, num_segments=None, sorted: bool = False):
    """Products of the rows of ``data`` sharing each segment id (1 for empty segments)."""
    return _segment(data, segment_ids, num_segments, "prod")


@keras_op
def top_k(x, k: int, sorted: bool = True):
    """The ``k`` largest values along the last axis and their indices (k argmax passes)."""
    x = _floatx_if_int(x)
    values, indices = [], []
    rest = x
    positions = T.arange(T.shape(x)[-1])
    for _ in range(int(k)):
        idx = T.argmax(rest, axis=-1)
        hit = T.eq(T.dimshuffle(idx, list(range(x.ndim - 1)) + ["x"]), positions)
        values.append(T.max(rest, axis=-1))
        indices.append(T.cast(idx, "int32"))
        rest = T.switch(hit, -np.inf, rest)
    return T.stack(values, axis=-1), T.stack(indices, axis=-1)


@keras_op
def in_top_k(targets, predictions, k: int):
    """True where the target's score is among the ``k`` largest of its row."""
    predictions = _floatx_if_int(predictions)
    targets = T.cast(T.as_tensor_variable(targets), "int64")
    rows = T.arange(T.shape(predictions)[0])
    target_score = predictions[rows, targets]
    higher = T.sum(T.cast(T.gt(predictions, T.dimshuffle(target_score, (0, "x"))), "int64"),
                   axis=-1)
    return T.lt(higher, k)
