"""``Adam`` (and ``amsgrad``), Keras 3 formulas."""
from __future__ import annotations

import core.tensor as T

from .optimizer import Optimizer


class Adam(Optimizer):
    """``m += (g - m)(1 - b1)``, ``v += (g^2 - v)(1 - b2)``,
    ``w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)``."""

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.amsgrad = bool(amsgrad)

    def build(self, var_list):
        super().build(var_list)
        self.momentums, self.velocities, self.velocity_hats = [], [], []
        for v in var_list:
            self.momentums.append(self.add_variable_from_reference(v, "momentum"))
            self.velocities.append(self.add_variable_from_reference(v, "velocity"))
        if self.amsgrad:
            self.velocity_hats = [self.add_variable_from_reference(v, "velocity_hat")
                                  for v in var_list]

    def update_step(self, grad, param, value, lr):
        t = self._step_float()
        b1, b2 = self.beta_1, self.beta_2
        alpha = lr * T.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
        m, v = self.momentums[self._index], self.velocities[self._index]
        new_m = m + (grad - m) * (1.0 - b1)
        new_v = v + (T.sqr(grad) - v) * (1.0 - b2)
        updates = [(m, new_m), (v, new_v)]
        denom_v = new_v
        if self.amsgrad:
            v_hat = self.velocity_hats[self._index]
            denom_v = T.maximum(v_hat, new_v)
            updates.append((v_hat, denom_v))
        updates.append((param, value - alpha * new_m / (T.sqrt(denom_v) + self.epsilon)))
        return updates

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}
