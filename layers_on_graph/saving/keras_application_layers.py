"""Layers that ``keras.applications`` models define for themselves, so their files load.

Keras writes them with their own module (``keras.src.applications.convnext``) rather than
``keras.layers``; ``application_layer(entry)`` gives the class that replays one, and
``keras_entry`` writes it back the same way.
"""
from __future__ import annotations

from .. import initializers
from ..layers.layer import Layer


class LayerScale(Layer):
    """ConvNeXt's per-channel scale: ``x * gamma``, gamma of (projection_dim,) starting at
    ``init_values``."""

    def __init__(self, init_values: float, projection_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.init_values, self.projection_dim = init_values, int(projection_dim)

    def build(self, input_shape) -> None:
        self.gamma = self.add_weight(shape=(self.projection_dim,),
                                     initializer=initializers.Constant(self.init_values),
                                     name="gamma")
        self.built = True

    def call(self, inputs):
        return inputs * self.gamma

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "init_values": self.init_values,
                "projection_dim": self.projection_dim}

    def keras_entry(self) -> dict:
        """This layer's entry in a Keras config, under the module Keras defines it in."""
        return {"module": "keras.src.applications.convnext", "class_name": "LayerScale",
                "config": self.get_config(), "registered_name": "LayerScale"}


_APPLICATION_LAYERS = {("keras.src.applications.convnext", "LayerScale"): LayerScale}


def application_layer(entry: dict):
    """The class for a layer entry written by a ``keras.applications`` module, or None."""
    return _APPLICATION_LAYERS.get((entry.get("module"), entry.get("class_name")))
