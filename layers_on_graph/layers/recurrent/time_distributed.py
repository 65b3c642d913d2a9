"""``TimeDistributed``: apply a layer to every time step of its input."""
from __future__ import annotations

import core.tensor as T

from ..layer import Layer
from .base_rnn import _where
from .serialization import layer_from_config, layer_to_config


class TimeDistributed(Layer):
    """Apply ``layer`` to each slice ``x[:, t]`` of a (batch, time, ...) input, with one set
    of weights: the batch and time axes are merged, the layer runs once, and they are split
    again. The input mask (if any) passes through.

    Examples
    --------
    >>> y = TimeDistributed(Dense(8))(x)   # (batch, time, 16) -> (batch, time, 8)
    """

    def __init__(self, layer: Layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"TimeDistributed: expected a Layer, got {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True

    def build(self, input_shape) -> None:
        input_shape = tuple(input_shape)
        if len(input_shape) < 3:
            raise ValueError(f"{self.name}: TimeDistributed needs inputs of at least 3 "
                             f"dimensions (batch, time, ...), got shape {input_shape}, "
                             f"at {_where()}")
        if not self.layer.built:
            self.layer._check_and_build((None,) + input_shape[2:])
        self.built = True

    def call(self, inputs, training=None, mask=None):
        if inputs.ndim < 3:
            raise ValueError(f"{self.name}: TimeDistributed needs inputs of at least 3 "
                             f"dimensions (batch, time, ...), got {inputs.type}, at {_where()}")
        inner_shape = [-1] + [T.shape_i(inputs, d) if s is None else s
                              for d, s in enumerate(inputs.type.shape) if d >= 2]
        flat = T.reshape(inputs, inner_shape, ndim=inputs.ndim - 1)
        kwargs = {}
        if mask is not None and mask.ndim > 2 and self.layer._call_has_mask:
            kwargs["mask"] = T.reshape(mask, [-1] + [T.shape_i(mask, d)
                                                     for d in range(2, mask.ndim)],
                                       ndim=mask.ndim - 1)
        y = self.layer(flat, training=training, **kwargs)
        out_shape = [T.shape_i(inputs, 0), T.shape_i(inputs, 1)] + [
            T.shape_i(y, d) if s is None else s for d, s in enumerate(y.type.shape) if d >= 1]
        return T.reshape(y, out_shape, ndim=y.ndim + 1)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        inner = self.layer.compute_output_shape((None,) + input_shape[2:])
        if inner is None:
            return None
        return input_shape[:2] + tuple(inner)[1:]

    def get_config(self) -> dict:
        return {**super().get_config(), "layer": layer_to_config(self.layer)}

    @classmethod
    def from_config(cls, config: dict) -> "TimeDistributed":
        config = dict(config)
        return cls(layer_from_config(config.pop("layer")), **config)
