"""Pieces the attention layers share: batched products, masks, eager calls on arrays."""
from __future__ import annotations

import numpy as np

import core.tensor as T
from core import function

from .layer import flatten_structure, is_symbolic, map_structure


def matmul(a, b):
    """``a @ b`` over the last two axes, with equal leading (batch) axes; 3-d or 4-d."""
    if a.ndim == 3:
        return T.batched_dot(a, b)
    lead = [T.shape_i(a, d) for d in range(a.ndim - 2)]
    a3 = T.reshape(a, [-1, T.shape_i(a, a.ndim - 2), T.shape_i(a, a.ndim - 1)], ndim=3)
    b3 = T.reshape(b, [-1, T.shape_i(b, b.ndim - 2), T.shape_i(b, b.ndim - 1)], ndim=3)
    out = T.batched_dot(a3, b3)
    return T.reshape(out, lead + [T.shape_i(out, 1), T.shape_i(out, 2)], ndim=a.ndim)


def causal_mask(q_len, v_len):
    """(1, q_len, v_len) boolean: position i sees positions j <= i."""
    rows = T.arange(q_len).dimshuffle("x", 0, "x")
    cols = T.arange(v_len).dimshuffle("x", "x", 0)
    return T.ge(rows, cols)


def as_bool(mask):
    mask = T.as_tensor_variable(mask)
    return mask if mask.dtype == "bool" else T.neq(mask, 0)


def call_eagerly(layer, args: tuple, kwargs: dict):
    """Evaluate ``layer(*args, **kwargs)`` on numpy arrays: every array argument (positional
    or keyword) becomes a placeholder of one compiled function."""
    arrays, placeholders = [], []

    def placeholder(value):
        if isinstance(value, (np.ndarray, list)) and not isinstance(value, str):
            a = np.asarray(value)
            if a.dtype.kind in "fiub" and a.ndim > 0:
                dtype = layer.dtype if a.dtype.kind == "f" else str(a.dtype)
                p = T.TensorType(dtype, (None,) + tuple(a.shape[1:]))(f"arg{len(arrays)}")
                arrays.append(a.astype(dtype))
                placeholders.append(p)
                return p
        return value

    sym_args = tuple(map_structure(placeholder, a) if not is_symbolic(a) else a for a in args)
    sym_kwargs = {k: placeholder(v) for k, v in kwargs.items()}
    outputs = layer(*sym_args, **sym_kwargs)
    flat = flatten_structure(outputs)
    values = iter(function(placeholders, flat, on_unused_input="ignore")(*arrays))
    return map_structure(lambda t: next(values), outputs)


def any_symbolic(*values) -> bool:
    return any(is_symbolic(t) for v in values for t in flatten_structure(v))
