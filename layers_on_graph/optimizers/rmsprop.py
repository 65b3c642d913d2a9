"""``RMSprop`` (optionally centered, with momentum), Keras 3 formulas."""
from __future__ import annotations

import core.tensor as T

from .optimizer import Optimizer


class RMSprop(Optimizer):
    """``v = rho v + (1 - rho) g^2``, ``w -= lr g / sqrt(v + epsilon)`` (centered: minus the
    squared mean gradient; momentum: through a velocity)."""

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)
        self.centered = bool(centered)

    def build(self, var_list):
        super().build(var_list)
        self.velocities = [self.add_variable_from_reference(v, "velocity") for v in var_list]
        self.momentums = [self.add_variable_from_reference(v, "momentum") for v in var_list] \
            if self.momentum > 0 else []
        self.average_gradients = [self.add_variable_from_reference(v, "average_gradient")
                                  for v in var_list] if self.centered else []

    def update_step(self, grad, param, value, lr):
        i, rho = self._index, self.rho
        v = self.velocities[i]
        new_v = rho * v + (1.0 - rho) * T.sqr(grad)
        updates = [(v, new_v)]
        if self.centered:
            ag = self.average_gradients[i]
            new_ag = rho * ag + (1.0 - rho) * grad
            updates.append((ag, new_ag))
            denominator = new_v - T.sqr(new_ag) + self.epsilon
        else:
            denominator = new_v + self.epsilon
        increment = lr * grad / T.sqrt(denominator)
        if self.momentum > 0:
            m = self.momentums[i]
            new_m = self.momentum * m + increment
            updates.append((m, new_m))
            increment = new_m
        updates.append((param, value - increment))
        return updates

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
