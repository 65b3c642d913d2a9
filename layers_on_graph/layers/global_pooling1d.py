"""``GlobalAveragePooling1D`` and ``GlobalMaxPooling1D``: reduce the steps axis."""
from __future__ import annotations

import core.tensor as T

from .conv_utils import check_data_format
from .layer import Layer


class _GlobalPooling1D(Layer):
    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        check_data_format(data_format, type(self).__name__)
        self.keepdims = keepdims

    def build(self, input_shape) -> None:
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_mask(self, inputs, mask=None):
        return None  # the steps are gone

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{self.name}: expects inputs of rank 3 (batch, steps, features), "
                             f"got shape {tuple(input_shape)}")
        if self.keepdims:
            return (input_shape[0], 1, input_shape[2])
        return (input_shape[0], input_shape[2])

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": "channels_last",
                "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPooling1D):
    """(b, steps, f) -> (b, f): the mean over the steps; with a mask, over the kept steps."""

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return T.mean(inputs, axis=1, keepdims=self.keepdims)
        weights = T.cast(mask, inputs.dtype).dimshuffle(0, 1, "x")
        return (T.sum(inputs * weights, axis=1, keepdims=self.keepdims)
                / T.sum(weights, axis=1, keepdims=self.keepdims))


class GlobalMaxPooling1D(_GlobalPooling1D):
    """(b, steps, f) -> (b, f): the maximum over the steps."""

    def call(self, inputs):
        return T.max(inputs, axis=1, keepdims=self.keepdims)
