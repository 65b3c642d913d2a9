"""``LeakyReLU``: ``x`` if positive, else ``negative_slope * x`` (Keras default 0.3)."""
from __future__ import annotations

import warnings

from .. import activations
from .layer import Layer


class LeakyReLU(Layer):
    """``LeakyReLU(negative_slope=0.3)``; the Keras 2 name ``alpha`` is accepted with a warning."""

    def __init__(self, negative_slope: float = 0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("LeakyReLU: argument `alpha` is deprecated; use `negative_slope`")
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"LeakyReLU: negative_slope cannot be None or negative, got "
                             f"{negative_slope!r}")
        self.negative_slope = negative_slope
        self.supports_masking = True

    def call(self, inputs):
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "negative_slope": self.negative_slope}
