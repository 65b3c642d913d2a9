"""``ELU``: ``x`` if positive, else ``alpha * (exp(x) - 1)``."""
from __future__ import annotations

from .. import activations
from .layer import Layer


class ELU(Layer):
    """``ELU(alpha=1.0)``."""

    def __init__(self, alpha: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha
        self.supports_masking = True

    def call(self, inputs):
        return activations.elu(inputs, alpha=self.alpha)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha}
