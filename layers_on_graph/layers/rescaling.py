"""``Rescaling``: ``inputs * scale + offset`` (scale and offset scalars or per-channel lists)."""
from __future__ import annotations

import numpy as np

import core.tensor as T

from .layer import Layer


class Rescaling(Layer):
    """``Rescaling(1 / 255)`` maps [0, 255] to [0, 1]; integer inputs give floats.

    Examples
    --------
    >>> y = Rescaling(scale=1 / 127.5, offset=-1)(images)   # to [-1, 1]
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True

    def call(self, inputs):
        scale = np.asarray(self.scale, dtype=self.dtype)
        offset = np.asarray(self.offset, dtype=self.dtype)
        return T.cast(inputs, self.dtype) * scale + offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": _plain(self.scale),
                "offset": _plain(self.offset)}


def _plain(value):
    """A float or a (nested) list of floats, as Keras writes it."""
    value = np.asarray(value)
    return value.item() if value.ndim == 0 else value.tolist()
