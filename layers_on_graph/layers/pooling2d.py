"""Base of ``MaxPooling2D`` and ``AveragePooling2D`` (channels_last, Keras semantics)."""
from __future__ import annotations

import core.tensor as T

from .conv_utils import check_input, check_same_pooling, normalize_padding, normalize_tuple, \
    output_length
from .layer import Layer


class Pooling2D(Layer):
    """Pools ``pool_size`` windows with ``strides`` (default ``pool_size``).

    'same' padding is supported where TF puts all padding at the bottom/right (for example
    strides equal to the pool size), computed with partial windows at the edge.
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
        if self.padding == "same":
            check_same_pooling(self, input_shape[1:3], input_shape)
        self.built = True

    def call(self, inputs):
        x = inputs.dimshuffle(0, 3, 1, 2)
        mode = "max" if self._mode == "max" else "average_exc_pad"
        out = T.signal.pool_2d(x, ws=self.pool_size, stride=self.strides,
                               ignore_border=self.padding == "valid", mode=mode)
        return out.dimshuffle(0, 2, 3, 1)

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
