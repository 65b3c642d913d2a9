"""``BatchNormalization`` with Keras 3's defaults (momentum 0.99, epsilon 1e-3)."""
from __future__ import annotations

import core.tensor as T

from .. import backend, distribution, initializers, regularizers
from ..distribution.graph import global_moments
from .layer import Layer


class BatchNormalization(Layer):
    """Normalize over the batch (and spatial axes) in training, with moving statistics otherwise.

    Weights, in Keras's order: gamma, beta (trainable), moving_mean, moving_variance.
    In training the moving statistics become ``moving * momentum + batch * (1 - momentum)``
    (biased batch variance, as Keras 3); in inference they normalize the input.
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized: bool = False, **kwargs):
        super().__init__(**kwargs)
        if beta_constraint is not None or gamma_constraint is not None:
            raise ValueError("BatchNormalization: weight constraints are not supported")
        self.axis = int(axis)
        self.synchronized = bool(synchronized)
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def build(self, input_shape) -> None:
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"{self.name}: axis {self.axis} out of range for input shape "
                             f"{tuple(input_shape)}")
        self._axis = self.axis % ndim
        size = input_shape[self._axis]
        if size is None:
            raise ValueError(f"{self.name}: axis {self.axis} of input shape {tuple(input_shape)} "
                             f"must be known")
        shape = (size,)
        self.gamma = self.add_weight(shape=shape, initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer, name="gamma") \
            if self.scale else None
        self.beta = self.add_weight(shape=shape, initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer, name="beta") \
            if self.center else None
        self.moving_mean = self.add_weight(shape=shape, initializer=self.moving_mean_initializer,
                                           trainable=False, name="moving_mean")
        self.moving_variance = self.add_weight(shape=shape,
                                               initializer=self.moving_variance_initializer,
                                               trainable=False, name="moving_variance")
        self._ndim = ndim
        self.built = True

    def _broadcast(self, v):
        pattern = ["x"] * self._ndim
        pattern[self._axis] = 0
        return v.dimshuffle(pattern)

    def call(self, inputs, training=None):
        reduce_axes = [d for d in range(inputs.ndim) if d != self._axis]
        if training and self.trainable:
            if self.synchronized and distribution.active():  # over the global batch
                mean, variance = global_moments(inputs, reduce_axes,
                                                self.moving_mean.get_value().shape[0])
            else:
                mean = T.mean(inputs, axis=reduce_axes)
                variance = T.mean(T.sqr(inputs - self._broadcast(mean)), axis=reduce_axes)
            m = self.momentum
            backend.add_update(self.moving_mean, self.moving_mean * m + mean * (1 - m))
            backend.add_update(self.moving_variance,
                               self.moving_variance * m + variance * (1 - m))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        inv = 1.0 / T.sqrt(variance + self.epsilon)
        if self.gamma is not None:
            inv = inv * self.gamma
        shift = -mean * inv
        if self.beta is not None:
            shift = shift + self.beta
        return inputs * self._broadcast(inv) + self._broadcast(shift)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "synchronized": self.synchronized}
