"""``GlobalAveragePooling2D`` and ``GlobalMaxPooling2D``: reduce rows and cols."""
from __future__ import annotations

import core.tensor as T

from .conv_utils import check_input
from .layer import Layer


class _GlobalPooling2D(Layer):
    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{type(self).__name__}: only data_format='channels_last' is "
                             f"supported")
        self.keepdims = keepdims

    def build(self, input_shape) -> None:
        check_input(input_shape, self.name)
        self.built = True

    def compute_output_shape(self, input_shape):
        check_input(input_shape, self.name)
        if self.keepdims:
            return (input_shape[0], 1, 1, input_shape[3])
        return (input_shape[0], input_shape[3])

    def get_config(self) -> dict:
        return {**super().get_config(), "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling2D):
    """(b, rows, cols, c) -> (b, c): the mean over rows and cols."""

    def call(self, inputs):
        return T.mean(inputs, axis=(1, 2), keepdims=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """(b, rows, cols, c) -> (b, c): the maximum over rows and cols."""

    def call(self, inputs):
        return T.max(inputs, axis=(1, 2), keepdims=self.keepdims)
