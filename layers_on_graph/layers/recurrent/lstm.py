"""``LSTM``: Keras's long short-term memory layer (gates i, f, c, o)."""
from __future__ import annotations

import numpy as np

import core.tensor as T

from ... import activations, initializers
from .base_rnn import BaseRNN, recurrent_slices


class LSTM(BaseRNN):
    """Long short-term memory, with Keras's parametrization: kernel (in, 4*units),
    recurrent_kernel (units, 4*units), bias (4*units,), gate blocks in the order
    input i, forget f, cell candidate c, output o::

        z = x_t @ kernel + h @ recurrent_kernel + bias
        i, f, o = recurrent_activation(z_i, z_f, z_o);  c = f * c + i * activation(z_c)
        h = o * activation(c)

    ``unit_forget_bias`` starts the forget gate's bias at 1. States: [h, c].

    Examples
    --------
    >>> out, h, c = LSTM(64, return_state=True)(x)
    """

    n_gates = 4

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 unit_forget_bias: bool = True, use_cudnn="auto", **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.use_cudnn = use_cudnn  # accepted for Keras compatibility

    @property
    def state_size(self) -> list[int]:
        return [self.units, self.units]

    def build_cell(self, n_in: int) -> None:
        u = self.units
        self.kernel = self.add_weight(shape=(n_in, 4 * u), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(u, 4 * u),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                name="recurrent_kernel")
        self.bias = None
        if self.use_bias:
            init = self.bias_initializer
            if self.unit_forget_bias:
                base = self.bias_initializer

                def init(shape, dtype=None):
                    return np.concatenate([
                        np.asarray(base((u,), dtype=dtype)),
                        np.asarray(initializers.get("ones")((u,), dtype=dtype)),
                        np.asarray(base((2 * u,), dtype=dtype))]).astype(dtype)
            self.bias = self.add_weight(shape=(4 * u,), initializer=init,
                                        regularizer=self.bias_regularizer, name="bias")

    def step_weights(self, per_gate: bool, batch) -> list:
        if per_gate:
            return recurrent_slices(self.recurrent_kernel, self.units, 4)
        return [self.recurrent_kernel.T]

    def step(self, x_t, states, weights, rec_masks):  # feature-major: (features, batch)
        h, c = states
        u = self.units
        # split (not four slices): its gradient is one concatenation of the gates' gradients;
        # the input and the product are split apart so their sum fuses into the gates' loops
        if rec_masks is None:
            zs = [x_k + r_k for x_k, r_k in zip(T.split(x_t, [u] * 4, 4, axis=0),
                                                 T.split(T.dot(weights[0], h), [u] * 4, 4,
                                                         axis=0))]
        else:  # one recurrent dropout mask per gate (Keras's implementation 1)
            zs = [x_k + T.dot(weights[k], h * rec_masks[k])
                  for k, x_k in enumerate(T.split(x_t, [u] * 4, 4, axis=0))]
        i = self.recurrent_activation(zs[0])
        f = self.recurrent_activation(zs[1])
        c = f * c + i * self.activation(zs[2])
        o = self.recurrent_activation(zs[3])
        return [o * self.activation(c), c]

    def get_config(self) -> dict:
        return {**super().get_config(),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}
