"""``Subtract``: difference of exactly two tensors."""
from __future__ import annotations

from .merging import Merge


class Subtract(Merge):
    """``Subtract()([a, b])`` = a - b."""

    def _check_inputs(self, input_shape) -> list:
        shapes = super()._check_inputs(input_shape)
        if len(shapes) != 2:
            raise ValueError(f"{self.name}: expects exactly 2 inputs, got {len(shapes)}")
        return shapes

    def _merge(self, inputs):
        return inputs[0] - inputs[1]
