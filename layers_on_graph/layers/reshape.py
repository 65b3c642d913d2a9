"""``Reshape``: give each sample a new shape (the batch axis is kept)."""
from __future__ import annotations

import numpy as np

import core.tensor as T

from .layer import Layer, static_shape


class Reshape(Layer):
    """``Reshape((4, 4))``: (batch, 16) -> (batch, 4, 4); one entry may be -1."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(s) for s in target_shape)
        if sum(s == -1 for s in self.target_shape) > 1 or any(
                s < -1 or s == 0 for s in self.target_shape):
            raise ValueError(f"Reshape: invalid target_shape {self.target_shape}")

    def build(self, input_shape) -> None:
        self.compute_output_shape(input_shape)
        self.built = True

    def call(self, inputs):
        target = self.target_shape
        if -1 in target:
            known = self.compute_output_shape(static_shape(inputs))[1:]
            target = tuple(-1 if s is None else s for s in known)
        return T.reshape(inputs, [T.shape_i(inputs, 0)] + list(target), ndim=len(target) + 1)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        target = list(self.target_shape)
        if None not in rest:
            total = int(np.prod(rest))
            known = int(np.prod([s for s in target if s != -1]))
            if -1 in target:
                if known == 0 or total % known:
                    raise ValueError(f"{self.name}: cannot reshape {tuple(rest)} to "
                                     f"{self.target_shape}")
                target[target.index(-1)] = total // known
            elif known != total:
                raise ValueError(f"{self.name}: cannot reshape {tuple(rest)} ({total} values) to "
                                 f"{self.target_shape} ({known} values)")
        else:
            target = [None if s == -1 else s for s in target]
        return (input_shape[0],) + tuple(target)

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": self.target_shape}
