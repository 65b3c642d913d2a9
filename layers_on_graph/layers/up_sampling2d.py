"""``UpSampling2D``: repeat rows and columns (nearest) or interpolate them (bilinear)."""
from __future__ import annotations

import numpy as np

import core.tensor as T

from .conv_utils import check_data_format, check_input, normalize_tuple
from .layer import Layer


def bilinear_matrix(size: int, factor: int, dtype: str) -> np.ndarray:
    """(size * factor, size) weights of half-pixel bilinear upsampling along one axis."""
    out = size * factor
    src = np.maximum((np.arange(out) + 0.5) / factor - 0.5, 0.0)
    low = np.minimum(np.floor(src).astype(int), size - 1)
    high = np.minimum(low + 1, size - 1)
    frac = src - low
    m = np.zeros((out, size))
    m[np.arange(out), low] += 1 - frac
    m[np.arange(out), high] += frac
    return m.astype(dtype)


class UpSampling2D(Layer):
    """``UpSampling2D(size=(2, 2))``: (b, r, c, ch) -> (b, 2r, 2c, ch).

    ``interpolation``: 'nearest' (repeat) or 'bilinear' (half-pixel centers, as Keras;
    needs static rows and cols).
    """

    def __init__(self, size=(2, 2), data_format: str | None = None,
                 interpolation: str = "nearest", **kwargs):
        super().__init__(**kwargs)
        check_data_format(data_format, "UpSampling2D")
        self.size = normalize_tuple(size, 2, "size", "UpSampling2D")
        self.interpolation = str(interpolation).lower()
        if self.interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"UpSampling2D: interpolation {interpolation!r} is not supported "
                             f"(only 'nearest' and 'bilinear')")

    def build(self, input_shape) -> None:
        check_input(input_shape, self.name)
        if self.interpolation == "bilinear" and None in tuple(input_shape[1:3]):
            raise ValueError(f"{self.name}: bilinear interpolation needs static rows and cols, "
                             f"got input shape {tuple(input_shape)}")
        self._rows_cols = tuple(input_shape[1:3])
        self.built = True

    def call(self, inputs):
        if self.interpolation == "nearest":
            return T.repeat(T.repeat(inputs, self.size[0], axis=1), self.size[1], axis=2)
        rows = bilinear_matrix(self._rows_cols[0], self.size[0], inputs.dtype)
        cols = bilinear_matrix(self._rows_cols[1], self.size[1], inputs.dtype)
        out = T.tensordot(rows, inputs, axes=[[1], [1]]).dimshuffle(1, 0, 2, 3)
        return T.tensordot(cols, out, axes=[[1], [2]]).dimshuffle(1, 2, 0, 3)

    def compute_output_shape(self, input_shape):
        check_input(input_shape, self.name)
        rows, cols = (None if n is None else n * s for n, s in zip(input_shape[1:3], self.size))
        return (input_shape[0], rows, cols, input_shape[3])

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size, "data_format": "channels_last",
                "interpolation": self.interpolation}
