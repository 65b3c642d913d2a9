"""``Masking``: skip time steps whose features all equal ``mask_value``."""
from __future__ import annotations

import core.tensor as T

from ..layer import Layer


class Masking(Layer):
    """Mask the time steps whose features all equal ``mask_value`` (Keras's ``Masking``):
    they become zeros, and the mask ``any(x != mask_value, axis=-1)`` travels with the output
    to the layers that follow (recurrent layers then skip those steps).

    Examples
    --------
    >>> y = LSTM(8)(Masking(mask_value=0.0)(x))
    """

    def __init__(self, mask_value: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)
        self.supports_masking = True

    def _keep(self, inputs):
        return T.any(T.neq(inputs, self.mask_value), axis=-1, keepdims=True)

    def call(self, inputs):
        return T.switch(self._keep(inputs), inputs, T.zeros_like(inputs))

    def compute_mask(self, inputs, mask=None):
        return T.any(T.neq(inputs, self.mask_value), axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "mask_value": self.mask_value}
