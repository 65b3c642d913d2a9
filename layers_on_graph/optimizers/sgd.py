"""``SGD`` with optional momentum and Nesterov momentum (Keras 3 formulas)."""
from __future__ import annotations

from .optimizer import Optimizer


class SGD(Optimizer):
    """``w -= lr * g``; with momentum ``m = momentum * m - lr * g`` then ``w += m``
    (Nesterov: ``w += momentum * m - lr * g``). Default learning rate 0.01."""

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0,
                 nesterov: bool = False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD: momentum must be in [0, 1], got {momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def build(self, var_list):
        super().build(var_list)
        self.momentums = [self.add_variable_from_reference(v, "momentum") for v in var_list] \
            if self.momentum else []

    def update_step(self, grad, param, value, lr):
        step = lr * grad
        if not self.momentum:
            return [(param, value - step)]
        m = self.momentums[self._index]
        new_m = self.momentum * m - step
        new_w = value + (self.momentum * new_m - step if self.nesterov else new_m)
        return [(m, new_m), (param, new_w)]

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
