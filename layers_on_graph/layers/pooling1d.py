"""Base of ``MaxPooling1D`` and ``AveragePooling1D`` on (batch, steps, features)."""
from __future__ import annotations

from .conv_utils import check_data_format, normalize_padding, normalize_tuple, output_length
from .layer import Layer
from .pool_ops import pool_nhwc


class Pooling1D(Layer):
    """Pools ``pool_size`` steps with ``strides`` (default ``pool_size``); 'same' as TF."""

    _mode = "max"

    def __init__(self, pool_size=2, strides=None, padding: str = "valid",
                 data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        check_data_format(data_format, owner)
        self.pool_size = normalize_tuple(pool_size, 1, "pool_size", owner)
        self.strides = normalize_tuple(strides if strides is not None else self.pool_size, 1,
                                       "strides", owner)
        self.padding = normalize_padding(padding, owner)

    def build(self, input_shape) -> None:
        self.compute_output_shape(input_shape)
        if self.padding == "same" and input_shape[1] is None:
            raise ValueError(f"{self.name}: padding='same' needs static steps, got input shape "
                             f"{tuple(input_shape)}")
        self._steps = input_shape[1]
        self.built = True

    def call(self, inputs):
        out = pool_nhwc(inputs.dimshuffle(0, 1, "x", 2), self.pool_size + (1,),
                        self.strides + (1,), self.padding, self._mode, (self._steps, 1))
        return out[:, :, 0, :]

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{self.name}: expects inputs of rank 3 (batch, steps, features), "
                             f"got shape {tuple(input_shape)}")
        steps = output_length(input_shape[1], self.pool_size[0], self.padding, self.strides[0])
        if steps == 0:
            raise ValueError(f"{self.name}: pool_size {self.pool_size} is larger than the input "
                             f"{tuple(input_shape)}")
        return (input_shape[0], steps, input_shape[2])

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "data_format": "channels_last"}

