"""``Activation``: apply an activation function as a layer."""
from __future__ import annotations

from .. import activations
from .layer import Layer
from .tensor_utils import fresh


class Activation(Layer):
    """``Activation('relu')(x)`` applies ``activations.get('relu')``."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)

    def call(self, inputs):
        out = self.activation(inputs)
        return fresh(out) if out is inputs else out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}
