"""``Dropout``: zero a fraction ``rate`` of inputs in training, scale the rest by 1/(1-rate)."""
from __future__ import annotations

import core.tensor as T
from core.tensor.random import RandomStreams

from ..utils.random import next_seed
from .layer import Layer
from .tensor_utils import fresh


class Dropout(Layer):
    """Inverted dropout, as Keras: identity in inference.

    ``seed`` fixes this layer's masks; otherwise it is drawn from the global generator
    (``utils.set_random_seed``).
    """

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(f"Dropout: rate must be in [0, 1], got {rate}")
        self.rate = float(rate)
        self.noise_shape = tuple(noise_shape) if noise_shape is not None else None
        self.seed = seed
        self._streams = RandomStreams(seed if seed is not None else next_seed())
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return fresh(inputs)
        if self.rate == 1:
            return T.zeros_like(inputs)
        keep = 1.0 - self.rate
        if self.noise_shape is None:
            u = self._streams.uniform(size=T.shape(inputs), dtype=inputs.dtype, ndim=inputs.ndim)
        else:
            if len(self.noise_shape) != inputs.ndim:
                raise ValueError(f"{self.name}: noise_shape {self.noise_shape} does not fit an "
                                 f"input of rank {inputs.ndim}")
            size = [T.shape_i(inputs, d) if s is None else int(s)
                    for d, s in enumerate(self.noise_shape)]
            u = self._streams.uniform(size=size, dtype=inputs.dtype)
            ones = [d for d, s in enumerate(self.noise_shape) if s == 1]
            if ones:  # a sum over size-1 axes keeps them as broadcastable axes
                u = T.sum(u, axis=ones, keepdims=True)
        return T.switch(T.lt(u, keep), inputs / keep, 0.0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape,
                "seed": self.seed}
