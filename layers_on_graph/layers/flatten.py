"""``Flatten``: keep the batch axis, flatten the rest."""
from __future__ import annotations

import numpy as np

import core.tensor as T

from .layer import Layer, static_shape


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...)."""

    def __init__(self, data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"Flatten: only data_format='channels_last' is supported, "
                             f"got {data_format!r}")

    def call(self, inputs):
        rest = static_shape(inputs)[1:]
        size = int(np.prod(rest)) if None not in rest else -1
        return T.reshape(inputs, [T.shape_i(inputs, 0), size], ndim=2)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], int(np.prod(rest)) if None not in rest else None)
