"""``optimizers.schedules``: Keras 3's learning-rate schedules.

A schedule maps the step (``optimizer.iterations``, counted from 0) to a learning rate.
It is written with ``layers_on_graph.ops``, so the same call gives a symbolic rate inside
the compiled train step (read from the iterations variable: no recompile per step) and a
number when called on an int.

Examples
--------
>>> lr = optimizers.schedules.ExponentialDecay(0.1, decay_steps=100, decay_rate=0.5)
>>> float(lr(100))
0.05
>>> model.compile(optimizer=optimizers.SGD(learning_rate=lr), loss='mse')
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend, ops


class LearningRateSchedule:
    """Base class: subclasses define ``__call__(step)`` and ``get_config()``."""

    def __call__(self, step):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(step)")

    def get_config(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must define get_config()")

    @classmethod
    def from_config(cls, config: dict) -> "LearningRateSchedule":
        return cls(**config)


def _step(step):
    if not ops.is_tensor(step):  # a number: an array, so every step shares one compiled op
        return np.asarray(step, dtype=backend.floatx())
    return ops.cast(step, backend.floatx())


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (the exponent floored
    when ``staircase``)."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "ExponentialDecay"):
        if decay_steps <= 0:
            raise ValueError(f"ExponentialDecay: decay_steps must be > 0, got {decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps, self.decay_rate = decay_steps, decay_rate
        self.staircase, self.name = staircase, name

    def __call__(self, step):
        p = _step(step) / self.decay_steps
        if self.staircase:
            p = ops.floor(p)
        return ops.multiply(self.initial_learning_rate, ops.power(self.decay_rate, p))

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` while ``boundaries[i-1] < step <= boundaries[i]``."""

    def __init__(self, boundaries: list, values: list, name: str = "PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(f"PiecewiseConstantDecay: needs one more value than boundaries, "
                             f"got {len(boundaries)} boundaries and {len(values)} values")
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def __call__(self, step):
        x = _step(step)
        out = ops.full_like(x, self.values[-1])
        for boundary, value in zip(reversed(self.boundaries), reversed(self.values[:-1])):
            out = ops.where(ops.less_equal(x, boundary), ops.full_like(x, value), out)
        return out

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` to ``end_learning_rate`` over ``decay_steps`` as
    ``(1 - step / decay_steps) ** power``; ``cycle`` restarts with longer periods."""

    def __init__(self, initial_learning_rate: float, decay_steps: int,
                 end_learning_rate: float = 0.0001, power: float = 1.0, cycle: bool = False,
                 name: str = "PolynomialDecay"):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power = end_learning_rate, power
        self.cycle, self.name = cycle, name

    def __call__(self, step):
        x = _step(step)
        steps = float(self.decay_steps)
        if self.cycle:
            # ceil(step / decay_steps), at least 1 (step 0 is in the first period)
            multiplier = ops.maximum(ops.ceil(x / steps), 1.0)
            steps = multiplier * steps
        else:
            x = ops.minimum(x, steps)
        fraction = x / steps
        return ops.add((self.initial_learning_rate - self.end_learning_rate)
                       * ops.power(1.0 - fraction, self.power), self.end_learning_rate)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (floored ratio when
    ``staircase``)."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "InverseTimeDecay"):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def __call__(self, step):
        p = _step(step) / self.decay_steps
        if self.staircase:
            p = ops.floor(p)
        return ops.divide(self.initial_learning_rate, 1.0 + self.decay_rate * p)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


def _cosine(fraction, alpha: float, factor=1.0):
    decayed = 0.5 * factor * (1.0 + ops.cos(math.pi * fraction))
    return (1.0 - alpha) * decayed + alpha


class CosineDecay(LearningRateSchedule):
    """Cosine decay from the rate to ``alpha`` times it over ``decay_steps``, after an optional
    linear warmup from ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target: float | None = None,
                 warmup_steps: int = 0):
        if decay_steps <= 0:
            raise ValueError(f"CosineDecay: decay_steps must be > 0, got {decay_steps}")
        self.initial_learning_rate, self.decay_steps, self.alpha = (initial_learning_rate,
                                                                    decay_steps, alpha)
        self.name, self.warmup_target, self.warmup_steps = name, warmup_target, warmup_steps

    def __call__(self, step):
        x = _step(step)
        if self.warmup_target is None:
            x = ops.minimum(x, float(self.decay_steps))
            return ops.multiply(self.initial_learning_rate,
                                _cosine(x / self.decay_steps, self.alpha))
        x = ops.minimum(x, float(self.decay_steps + self.warmup_steps))
        warm_fraction = x / max(self.warmup_steps, 1)
        warm = (self.warmup_target - self.initial_learning_rate) * warm_fraction \
            + self.initial_learning_rate
        decay = ops.multiply(self.warmup_target, _cosine(
            (x - self.warmup_steps) / self.decay_steps, self.alpha))
        return ops.where(ops.less(x, float(self.warmup_steps)), warm, decay)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): each period ``t_mul`` times longer and its
    peak ``m_mul`` times lower than the last."""

    def __init__(self, initial_learning_rate: float, first_decay_steps: int, t_mul: float = 2.0,
                 m_mul: float = 1.0, alpha: float = 0.0, name: str = "SGDRDecay"):
        self.initial_learning_rate, self.first_decay_steps = (initial_learning_rate,
                                                              first_decay_steps)
        self._t_mul, self._m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name

    def __call__(self, step):
        fraction = _step(step) / self.first_decay_steps
        t_mul = float(self._t_mul)
        if t_mul == 1.0:
            restart = ops.floor(fraction)
            fraction = fraction - restart
        else:
            restart = ops.floor(ops.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
            done = (1.0 - ops.power(t_mul, restart)) / (1.0 - t_mul)
            fraction = (fraction - done) / ops.power(t_mul, restart)
        factor = ops.power(float(self._m_mul), restart)
        return ops.multiply(self.initial_learning_rate, _cosine(fraction, self.alpha, factor))

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


_CLASSES = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay,
                                           PolynomialDecay, InverseTimeDecay, CosineDecay,
                                           CosineDecayRestarts)}


def serialize(schedule: LearningRateSchedule) -> dict:
    """Keras 3's ``{"module", "class_name", "config", "registered_name"}`` form."""
    builtin = type(schedule).__name__ in _CLASSES
    return {"module": "keras.optimizers.schedules" if builtin else type(schedule).__module__,
            "class_name": type(schedule).__name__, "config": schedule.get_config(),
            "registered_name": None if builtin else type(schedule).__name__}


def deserialize(config: dict, custom_objects: dict | None = None) -> LearningRateSchedule:
    """The schedule ``serialize`` (or Keras) wrote."""
    from ..saving.registration import get_registered_object

    name = config.get("class_name")
    cls = (custom_objects or {}).get(name) or _CLASSES.get(name) or get_registered_object(
        config.get("registered_name") or name)
    if cls is None:
        raise ValueError(f"unknown learning rate schedule {name!r}; known: {sorted(_CLASSES)} "
                         f"(register custom ones with saving.register_keras_serializable)")
    return cls.from_config(dict(config.get("config", {})))


__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay",
           "PolynomialDecay", "InverseTimeDecay", "CosineDecay", "CosineDecayRestarts",
           "serialize", "deserialize"]
