"""``Lambda``: wrap a function of symbolic tensors as a layer."""
from __future__ import annotations

import inspect

from .layer import Layer


class Lambda(Layer):
    """``Lambda(lambda x: x * 2)``; ``output_shape`` (without the batch axis) is optional.

    Examples
    --------
    >>> y = Lambda(lambda t: T.sqr(t))(x)
    """

    def __init__(self, function, output_shape=None, mask=None, arguments: dict | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: expected a callable, got {function!r}")
        self.function = function
        self._output_shape = output_shape
        self.arguments = dict(arguments or {})
        self._fn_training = "training" in inspect.signature(function).parameters

    def call(self, inputs, training=None):
        kwargs = dict(self.arguments)
        if self._fn_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return None
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        first = input_shape[0] if isinstance(input_shape, (list, tuple)) and input_shape and \
            isinstance(input_shape[0], (list, tuple)) else input_shape
        return (first[0],) + tuple(self._output_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "function": self.function,
                "output_shape": self._output_shape, "arguments": self.arguments}
