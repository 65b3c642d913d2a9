"""``ReLU``: Keras's rectifier layer with optional cap, negative slope and threshold."""
from __future__ import annotations

from .. import activations
from .layer import Layer


class ReLU(Layer):
    """``max_value`` caps, ``negative_slope`` scales ``x - threshold`` below ``threshold``.

    Examples
    --------
    >>> y = ReLU(6.0)(x)   # MobileNet's relu6
    """

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        for name, value, allow_none in (("max_value", max_value, True),
                                        ("negative_slope", negative_slope, False),
                                        ("threshold", threshold, False)):
            if (value is None and not allow_none) or (value is not None and value < 0):
                raise ValueError(f"ReLU: {name} cannot be None or negative, got {value!r}"
                                 if not allow_none else
                                 f"ReLU: {name} cannot be negative, got {value!r}")
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold
        self.supports_masking = True

    def call(self, inputs):
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}
