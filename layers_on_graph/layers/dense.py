"""``Dense``: ``activation(dot(x, kernel) + bias)`` on the last axis."""
from __future__ import annotations

import core.tensor as T

from .. import activations, initializers, regularizers
from .layer import Layer


class Dense(Layer):
    """A fully connected layer; kernel of shape (in, units), then bias (units,).

    Examples
    --------
    >>> y = Dense(10, activation='softmax')(x)
    """

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.supports_masking = True  # a sequence's mask passes through, as in Keras
        if not isinstance(units, int) or units <= 0:
            raise ValueError(f"Dense: units must be a positive int, got {units!r}")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        if kernel_constraint is not None or bias_constraint is not None:
            raise ValueError("Dense: weight constraints are not supported")

    def build(self, input_shape) -> None:
        n_in = input_shape[-1]
        if n_in is None:
            raise ValueError(f"{self.name}: the last dimension of the input must be known, got "
                             f"input shape {tuple(input_shape)}")
        self.kernel = self.add_weight(shape=(n_in, self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, name="kernel")
        self.bias = (self.add_weight(shape=(self.units,), initializer=self.bias_initializer,
                                     regularizer=self.bias_regularizer, name="bias")
                     if self.use_bias else None)
        self.built = True

    def call(self, inputs):
        if inputs.ndim == 2:
            out = T.dot(inputs, self.kernel)
        else:
            lead = [T.shape_i(inputs, d) for d in range(inputs.ndim - 1)]
            flat = T.reshape(inputs, (-1, self.kernel.get_value(borrow=True).shape[0]))
            out = T.reshape(T.dot(flat, self.kernel), lead + [self.units], ndim=inputs.ndim)
        if self.bias is not None:
            out = out + self.bias
        return self.activation(out)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer)}
