"""``AdamW``: Adam with decoupled weight decay (Keras default 0.004)."""
from __future__ import annotations

from .adam import Adam


class AdamW(Adam):
    """``w -= w * weight_decay * lr`` then the Adam step."""

    def __init__(self, learning_rate: float = 0.001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False, **kwargs):
        if not weight_decay:
            raise ValueError("AdamW: weight_decay must be a positive number")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)
