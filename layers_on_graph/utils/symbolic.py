"""Small symbolic helpers shared by losses, metrics and layers."""
from __future__ import annotations

import core.tensor as T


def one_hot(labels, like):
    """One-hot matrix of int ``labels`` with as many columns (and the dtype) as ``like``."""
    classes = T.arange(T.shape_i(like, like.ndim - 1))
    return T.cast(T.eq(labels.dimshuffle(0, "x"), classes.dimshuffle("x", 0)), like.dtype)
