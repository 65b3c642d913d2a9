"""``SimpleRNN``: ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``."""
from __future__ import annotations

import core.tensor as T

from .base_rnn import BaseRNN


class SimpleRNN(BaseRNN):
    """A fully connected recurrent layer, as Keras's; weights kernel (in, units),
    recurrent_kernel (units, units), bias (units,).

    Examples
    --------
    >>> y = SimpleRNN(32, return_sequences=True)(x)   # x: (batch, time, features)
    """

    n_gates = 1

    def build_cell(self, n_in: int) -> None:
        u = self.units
        self.kernel = self.add_weight(shape=(n_in, u), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(u, u),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                name="recurrent_kernel")
        self.bias = (self.add_weight(shape=(u,), initializer=self.bias_initializer,
                                     regularizer=self.bias_regularizer, name="bias")
                     if self.use_bias else None)

    def step_weights(self, per_gate: bool, batch) -> list:
        return [self.recurrent_kernel.T]

    def step(self, x_t, states, weights, rec_masks):  # feature-major: h is (units, batch)
        h = states[0]
        if rec_masks is not None:
            h = h * rec_masks[0]
        return [self.activation(x_t + T.dot(weights[0], h))]
