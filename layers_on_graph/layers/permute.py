"""``Permute``: reorder the non-batch axes."""
from __future__ import annotations

from .layer import Layer


class Permute(Layer):
    """``Permute((2, 1))``: (batch, a, b) -> (batch, b, a). Axes count from 1, as Keras."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Permute: dims must be a permutation of 1..{len(self.dims)}, "
                             f"got {self.dims}")

    def build(self, input_shape) -> None:
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError(f"{self.name}: dims {self.dims} do not fit an input of shape "
                             f"{tuple(input_shape)}")
        self.built = True

    def call(self, inputs):
        return inputs.dimshuffle((0,) + self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self) -> dict:
        return {**super().get_config(), "dims": self.dims}
