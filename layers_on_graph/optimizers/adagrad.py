"""``Adagrad``, Keras 3 formulas."""
from __future__ import annotations

import core.tensor as T

from .optimizer import Optimizer


class Adagrad(Optimizer):
    """``acc += g^2``, ``w -= lr g / sqrt(acc + epsilon)``; accumulators start at 0.1."""

    def __init__(self, learning_rate: float = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def build(self, var_list):
        super().build(var_list)
        self.accumulators = [self.add_variable_from_reference(
            v, "accumulator", self.initial_accumulator_value) for v in var_list]

    def update_step(self, grad, param, value, lr):
        acc = self.accumulators[self._index]
        new_acc = acc + T.sqr(grad)
        return [(acc, new_acc), (param, value - lr * grad / T.sqrt(new_acc + self.epsilon))]

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
