"""``GRU``: Keras's gated recurrent unit (gates z, r, h), with ``reset_after``."""
from __future__ import annotations

import core.tensor as T

from ... import activations
from .base_rnn import BaseRNN, recurrent_slices


class GRU(BaseRNN):
    """Gated recurrent unit, with Keras's parametrization: kernel (in, 3*units),
    recurrent_kernel (units, 3*units), column blocks update z, reset r, candidate h.

    ``reset_after=True`` (Keras 3's default): bias (2, 3*units), row 0 for the inputs and
    row 1 for the recurrent product, and the reset gate multiplies ``h @ U_h + b_h``.
    ``reset_after=False``: bias (3*units,), and the reset gate multiplies ``h`` before
    ``@ U_h``. Then ``h = z * h + (1 - z) * activation(x_h + recurrent_h)``.

    Examples
    --------
    >>> y = GRU(64, return_sequences=True)(x)
    """

    n_gates = 3

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 reset_after: bool = True, use_cudnn="auto", **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)
        self.use_cudnn = use_cudnn  # accepted for Keras compatibility

    def build_cell(self, n_in: int) -> None:
        u = self.units
        self.kernel = self.add_weight(shape=(n_in, 3 * u), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(u, 3 * u),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                name="recurrent_kernel")
        self.bias = None
        if self.use_bias:
            shape = (2, 3 * u) if self.reset_after else (3 * u,)
            self.bias = self.add_weight(shape=shape, initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, name="bias")

    def input_bias(self):
        return self.bias[0] if self.reset_after else self.bias

    def step_weights(self, per_gate: bool, batch) -> list:
        u, U = self.units, self.recurrent_kernel
        if per_gate:
            weights = recurrent_slices(U, u, 3)
        elif self.reset_after:
            weights = [U.T]
        else:
            weights = [U[:, :2 * u].T, U[:, 2 * u:].T]
        if self.use_bias and self.reset_after:  # broadcast once, outside the loop
            weights.append(T.alloc(self.bias[1].dimshuffle(0, "x"), 3 * u, batch))
        return weights

    def step(self, x_t, states, weights, rec_masks):  # feature-major: (features, batch)
        h = states[0]
        u = self.units
        # splits (not slices): their gradients are single concatenations
        x_z, x_r, x_h = T.split(x_t, [u] * 3, 3, axis=0)
        rb = weights[-1] if self.use_bias and self.reset_after else None
        if rec_masks is None:  # Keras's implementation 2: one product for the gates
            inner = T.dot(weights[0], h)
            if rb is not None:
                inner = inner + rb
            if self.reset_after:
                r_z, r_r, r_h = T.split(inner, [u] * 3, 3, axis=0)
            else:
                r_z, r_r = T.split(inner, [u] * 2, 2, axis=0)
        else:  # implementation 1: one recurrent dropout mask per gate
            r_z = T.dot(weights[0], h * rec_masks[0])
            r_r = T.dot(weights[1], h * rec_masks[1])
            if rb is not None:
                r_z, r_r = r_z + rb[:u], r_r + rb[u:2 * u]
        z = self.recurrent_activation(x_z + r_z)
        r = self.recurrent_activation(x_r + r_r)
        if self.reset_after:
            if rec_masks is not None:
                r_h = T.dot(weights[2], h * rec_masks[2])
                if rb is not None:
                    r_h = r_h + rb[2 * u:]
            r_h = r * r_h
        else:
            h_h = h if rec_masks is None else h * rec_masks[2]
            r_h = T.dot(weights[1] if rec_masks is None else weights[2], r * h_h)
        hh = self.activation(x_h + r_h)
        return [z * h + (1 - z) * hh]

    def get_config(self) -> dict:
        return {**super().get_config(),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after}
