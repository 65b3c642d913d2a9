"""Channels-last pooling with Keras's padding, shared by the 1-d and 2-d pooling layers."""
from __future__ import annotations

import numpy as np

import core.tensor as T

from .conv_utils import same_padding
from .zero_padding2d import pad_rows_cols


def _window_counts(size: int, window: int, stride: int, before: int, out: int) -> np.ndarray:
    """How many input cells each output window covers along one axis."""
    start = np.arange(out) * stride - before
    return np.minimum(start + window, size) - np.maximum(start, 0)


def pool_nhwc(x, pool_size, strides, padding: str, mode: str, rows_cols):
    """Pool (batch, rows, cols, channels) ``x``: ``mode`` 'max' or 'average' (padding
    excluded from the mean), ``padding`` 'valid' or 'same' (TF's: the extra cell after)."""
    pads = [same_padding(n, k, s) for n, k, s in zip(rows_cols, pool_size, strides)] \
        if padding == "same" else [(0, 0), (0, 0)]
    if not any(before for before, _ in pads):
        # no padding before: partial windows at the bottom/right edge give TF's values
        out = T.signal.pool_2d(x.dimshuffle(0, 3, 1, 2), ws=pool_size, stride=strides,
                               ignore_border=padding == "valid",
                               mode="max" if mode == "max" else "average_exc_pad")
        return out.dimshuffle(0, 2, 3, 1)
    if mode == "max":  # pad with the lowest value, which no window can pick over a real one
        padded = pad_rows_cols(x, pads, float(np.finfo(x.dtype).min))
        out = T.signal.pool_2d(padded.dimshuffle(0, 3, 1, 2), ws=pool_size, stride=strides,
                               mode="max")
        return out.dimshuffle(0, 2, 3, 1)
    padded = pad_rows_cols(x, pads)
    sums = T.signal.pool_2d(padded.dimshuffle(0, 3, 1, 2), ws=pool_size, stride=strides,
                            mode="sum").dimshuffle(0, 2, 3, 1)
    outs = [-(-n // s) for n, s in zip(rows_cols, strides)]
    counts = np.outer(*[_window_counts(n, k, s, p[0], o) for n, k, s, p, o in zip(
        rows_cols, pool_size, strides, pads, outs)])
    return sums * (1.0 / counts).astype(x.dtype)[None, :, :, None]
