"""``GroupNormalization``: normalize each sample over groups of channels (Keras epsilon 1e-3)."""
from __future__ import annotations

import core.tensor as T

from .. import initializers, regularizers
from .layer import Layer


class GroupNormalization(Layer):
    """Split the ``axis`` channels into ``groups``; normalize each group of each sample over
    its channels and the other non-batch axes; then ``* gamma + beta`` per channel.

    ``groups=-1`` is instance normalization (one channel per group). Weights: gamma, beta.

    Examples
    --------
    >>> y = GroupNormalization(groups=8)(conv_out)
    """

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, **kwargs):
        if not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError(f"GroupNormalization: groups must be a positive int or -1, got "
                             f"{groups!r}")
        super().__init__(**kwargs)
        if beta_constraint is not None or gamma_constraint is not None:
            raise ValueError("GroupNormalization: weight constraints are not supported")
        self.supports_masking = True
        self.groups, self.axis, self.epsilon = groups, int(axis), float(epsilon)
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def build(self, input_shape) -> None:
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim or self.axis % ndim == 0:
            raise ValueError(f"{self.name}: axis {self.axis} out of range (or the batch axis) "
                             f"for input shape {tuple(input_shape)}")
        self._axis, self._ndim = self.axis % ndim, ndim
        dim = input_shape[self._axis]
        if dim is None:
            raise ValueError(f"{self.name}: axis {self.axis} of input shape "
                             f"{tuple(input_shape)} must be known")
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups or dim % self.groups:
            raise ValueError(f"{self.name}: {dim} channels do not split into "
                             f"{self.groups} groups")
        self._dim = dim
        self.gamma = self.add_weight(shape=(dim,), initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer, name="gamma") \
            if self.scale else None
        self.beta = self.add_weight(shape=(dim,), initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer, name="beta") \
            if self.center else None
        self.built = True

    def _per_channel(self, v):
        """(dim,) -> broadcastable against the grouped (…, groups, dim // groups, …) tensor."""
        grouped = v.reshape((self.groups, self._dim // self.groups))
        pattern = ["x"] * (self._ndim + 1)
        pattern[self._axis], pattern[self._axis + 1] = 0, 1
        return grouped.dimshuffle(pattern)

    def call(self, inputs):
        a = self._axis
        shape = [T.shape_i(inputs, d) for d in range(self._ndim)]
        grouped_shape = shape[:a] + [self.groups, self._dim // self.groups] + shape[a + 1:]
        x = T.reshape(inputs, grouped_shape, ndim=self._ndim + 1)
        reduce = [d for d in range(1, self._ndim + 1) if d != a]
        mean = T.mean(x, axis=reduce, keepdims=True)
        variance = T.mean(T.sqr(x - mean), axis=reduce, keepdims=True)
        inv = 1.0 / T.sqrt(variance + self.epsilon)
        if self.gamma is not None:
            inv = inv * self._per_channel(self.gamma)
        shift = -mean * inv
        if self.beta is not None:
            shift = shift + self._per_channel(self.beta)
        return T.reshape(x * inv + shift, shape, ndim=self._ndim)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "groups": self.groups, "axis": self.axis,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": self.beta_regularizer,
                "gamma_regularizer": self.gamma_regularizer}
