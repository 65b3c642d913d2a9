"""Base of ``MaxPooling2D`` and ``AveragePooling2D`` (channels_last, Keras semantics)."""
from __future__ import annotations

from .conv_utils import check_input, normalize_padding, normalize_tuple, output_length
from .layer import Layer
from .pool_ops import pool_nhwc


class Pooling2D(Layer):
    """Pools ``pool_size`` windows with ``strides`` (default ``pool_size``).

    'same' padding is TF's (the extra cell after); padding never counts in a mean.
    """

    _mode = "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding: str = "valid",
                 data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{owner}: only data_format='channels_last' is supported")
        self.pool_size = normalize_tuple(pool_size, 2, "pool_size", owner)
        self.strides = normalize_tuple(strides if strides is not None else self.pool_size, 2,
                                       "strides", owner)
        self.padding = normalize_padding(padding, owner)

    def build(self, input_shape) -> None:
        self.compute_output_shape(input_shape)
        if self.padding == "same" and None in tuple(input_shape[1:3]):
            raise ValueError(f"{self.name}: padding='same' needs static rows and cols, got "
                             f"input shape {tuple(input_shape)}")
        self._rows_cols = tuple(input_shape[1:3])
        self.built = True

    def call(self, inputs):
        return pool_nhwc(inputs, self.pool_size, self.strides, self.padding, self._mode,
                         self._rows_cols)

    def compute_output_shape(self, input_shape):
        check_input(input_shape, self.name)
        rows, cols = (output_length(n, k, self.padding, s) for n, k, s in zip(
            input_shape[1:3], self.pool_size, self.strides))
        if rows == 0 or cols == 0:
            raise ValueError(f"{self.name}: pool_size {self.pool_size} is larger than the input "
                             f"{tuple(input_shape)}")
        return (input_shape[0], rows, cols, input_shape[3])

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding}
