"""``LayerNormalization``: normalize each sample over its last axis (Keras epsilon 1e-3)."""
from __future__ import annotations

import core.tensor as T

from .. import initializers, regularizers
from .layer import Layer


class LayerNormalization(Layer):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` over ``axis`` (default -1).

    Weights, in Keras's order: gamma, beta.
    """

    def __init__(self, axis=-1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 rms_scaling: bool = False, beta_initializer="zeros", gamma_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True  # normalizes each position on its own
        if beta_constraint is not None or gamma_constraint is not None:
            raise ValueError("LayerNormalization: weight constraints are not supported")
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)
        self.epsilon = float(epsilon)
        self.center, self.scale, self.rms_scaling = center, scale, rms_scaling
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def build(self, input_shape) -> None:
        ndim = len(input_shape)
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        for a in axes:
            if not -ndim <= a < ndim:
                raise ValueError(f"{self.name}: axis {a} out of range for input shape "
                                 f"{tuple(input_shape)}")
        self._axes = sorted(a % ndim for a in axes)
        shape = tuple(input_shape[a] for a in self._axes)
        if None in shape:
            raise ValueError(f"{self.name}: normalized axes of {tuple(input_shape)} must be known")
        self.gamma = self.add_weight(shape=shape, initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer, name="gamma") \
            if self.scale or self.rms_scaling else None
        self.beta = self.add_weight(shape=shape, initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer, name="beta") \
            if self.center and not self.rms_scaling else None
        self._ndim = ndim
        self.built = True

    def _broadcast(self, v):
        pattern, k = [], 0
        for d in range(self._ndim):
            if d in self._axes:
                pattern.append(k)
                k += 1
            else:
                pattern.append("x")
        return v.dimshuffle(pattern)

    def call(self, inputs):
        if self.rms_scaling:
            variance = T.mean(T.sqr(inputs), axis=self._axes, keepdims=True)
            return inputs / T.sqrt(variance + self.epsilon) * self._broadcast(self.gamma)
        mean = T.mean(inputs, axis=self._axes, keepdims=True)
        variance = T.mean(T.sqr(inputs - mean), axis=self._axes, keepdims=True)
        inv = 1.0 / T.sqrt(variance + self.epsilon)
        if self.gamma is not None:
            inv = inv * self._broadcast(self.gamma)
        out = inputs * inv - mean * inv
        if self.beta is not None:
            out = out + self._broadcast(self.beta)
        return out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "rms_scaling": self.rms_scaling}
