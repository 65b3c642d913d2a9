"""``PReLU``: a leaky ReLU whose negative slope ``alpha`` is learned per element."""
from __future__ import annotations

import core.tensor as T

from .. import initializers, regularizers
from .layer import Layer


class PReLU(Layer):
    """``relu(x) - alpha * relu(-x)``; weight ``alpha`` of the input shape (without batch),
    with size 1 along ``shared_axes``.

    Examples
    --------
    >>> y = PReLU(shared_axes=[1, 2])(conv_out)   # one slope per channel
    """

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        if alpha_constraint is not None:
            raise ValueError("PReLU: weight constraints are not supported")
        self.supports_masking = True
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        if shared_axes is None:
            self.shared_axes = None
        else:
            self.shared_axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) \
                else [shared_axes]

    def build(self, input_shape) -> None:
        shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if not 1 <= axis < len(input_shape):
                raise ValueError(f"{self.name}: shared axis {axis} out of range for input "
                                 f"shape {tuple(input_shape)}")
            shape[axis - 1] = 1
        if None in shape:
            raise ValueError(f"{self.name}: the input shape {tuple(input_shape)} must be known "
                             f"outside the batch and shared axes")
        self.alpha = self.add_weight(shape=shape, initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer, name="alpha")
        self._shared = [a - 1 for a in self.shared_axes or []]
        self.built = True

    def call(self, inputs):
        alpha = self.alpha
        if self._shared:  # size-1 axes of the weight broadcast along the shared axes
            alpha = T.addbroadcast(alpha, *self._shared)
        return T.maximum(inputs, 0) - alpha * T.maximum(-inputs, 0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(),
                "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": self.alpha_regularizer,
                "alpha_constraint": None, "shared_axes": self.shared_axes}
