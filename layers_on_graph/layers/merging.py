"""Base of the merge layers (Add, Concatenate, ...): a list of tensors in, one out."""
from __future__ import annotations

import core.tensor as T

from .layer import Layer, static_shape


class Merge(Layer):
    """Checks that a list of at least two inputs with compatible shapes is given."""

    def _check_inputs(self, input_shape) -> list:
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not isinstance(
                input_shape[0], (list, tuple)):
            raise ValueError(f"{self.name}: expects a list of inputs, got shape {input_shape}")
        if len(input_shape) < 2:
            raise ValueError(f"{self.name}: expects at least 2 inputs, got {len(input_shape)}")
        return [tuple(s) for s in input_shape]

    def build(self, input_shape) -> None:
        shapes = self._check_inputs(input_shape)
        self.compute_output_shape(shapes)
        self.built = True

    def compute_output_shape(self, input_shape):
        shapes = self._check_inputs(input_shape)
        ranks = {len(s) for s in shapes}
        if len(ranks) != 1:
            raise ValueError(f"{self.name}: inputs must have the same rank, got shapes {shapes}")
        out = []
        for dims in zip(*shapes):
            known = {d for d in dims if d is not None and d != 1}
            if len(known) > 1:
                raise ValueError(f"{self.name}: incompatible input shapes {shapes}")
            out.append(known.pop() if known else (1 if all(d == 1 for d in dims) else None))
        return tuple(out)

    def _merge(self, inputs):
        raise NotImplementedError

    def call(self, inputs):
        return self._merge(broadcastable(list(inputs)))


def broadcastable(inputs: list) -> list:
    """Mark axes of static size 1 broadcastable where another input is longer there, so
    that (b, h, w, c) * (b, 1, 1, c) broadcasts as in Keras (e.g. squeeze-and-excitation)."""
    shapes = [static_shape(x) for x in inputs]
    out = []
    for x, shape in zip(inputs, shapes):
        axes = [d for d, n in enumerate(shape) if d > 0 and n == 1
                and not x.type.broadcastable[d] and any(s[d] != 1 for s in shapes)]
        out.append(T.addbroadcast(x, *axes) if axes else x)
    return out
