"""``Optimizer``: turns gradients into ``core.function`` updates, with Keras 3's formulas.

The learning rate is a shared float32 scalar, so schedules and callbacks change
it between steps without recompiling. ``iterations`` is a shared int64 counter.
Gradient clipping (``clipnorm`` per variable, ``clipvalue``, ``global_clipnorm``)
and decoupled ``weight_decay`` apply before each variable's update, as Keras.
"""
from __future__ import annotations

import numpy as np

import core.tensor as T
from core import shared

from .. import backend
from ..layers.keras_variable import as_keras_variable
from . import schedules


class Optimizer:
    """Base class. Subclasses implement ``build(var_list)`` and ``update_step(grad, var, lr)``."""

    def __init__(self, learning_rate: float = 0.001, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name: str | None = None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unknown argument(s) {sorted(kwargs)}")
        if use_ema or loss_scale_factor or gradient_accumulation_steps:
            raise ValueError(f"{type(self).__name__}: use_ema, loss_scale_factor and "
                             f"gradient_accumulation_steps are not supported")
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError("pass only one of clipnorm and global_clipnorm")
        for label, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                             ("global_clipnorm", global_clipnorm)):
            if value is not None and value <= 0:
                raise ValueError(f"{type(self).__name__}: {label} must be positive, got {value}")
        if isinstance(learning_rate, dict):  # a serialized schedule (from get_config)
            learning_rate = schedules.deserialize(learning_rate)
        # a schedule or callable is evaluated inside the train step (from ``iterations``)
        self._schedule = learning_rate if callable(learning_rate) else None
        if self._schedule is None and not np.isscalar(learning_rate):
            raise ValueError(f"{type(self).__name__}: learning_rate must be a number, a "
                             f"LearningRateSchedule or a callable, got {learning_rate!r}")
        from ..utils.naming import to_snake_case

        self.name = name or to_snake_case(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self._lr = None if self._schedule is not None else as_keras_variable(
            shared(np.asarray(learning_rate, dtype=backend.floatx()), shape=(),
                   name=f"{self.name}/learning_rate"), trainable=False)
        self.iterations = as_keras_variable(shared(np.asarray(0, dtype="int64"), shape=(),
                                                   name=f"{self.name}/iterations"),
                                            trainable=False)
        self._variables: list = []
        self._built_for: list | None = None

    # ----- learning rate -----
    @property
    def learning_rate(self):
        """The learning-rate variable (``float()``, ``.assign``, or assign a number here);
        with a schedule, the current rate as a number."""
        if self._schedule is not None:
            return np.asarray(self._scheduled_rate(int(self.iterations)),
                              dtype=backend.floatx())[()]
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if self._schedule is not None:
            raise TypeError(f"{self.name}: this optimizer's learning rate is a schedule "
                            f"({type(self._schedule).__name__}), so it cannot be set")
        self._lr.set_value(np.asarray(value, dtype=self._lr.type.dtype))

    def _scheduled_rate(self, step):
        if isinstance(self._schedule, schedules.LearningRateSchedule):
            return self._schedule(step)
        try:
            return self._schedule(step)
        except TypeError:  # Keras's no-argument callable
            return self._schedule()

    def _current_lr(self):
        """The symbolic learning rate of the step being built."""
        if self._schedule is None:
            return self._lr
        return T.cast(T.as_tensor_variable(self._scheduled_rate(self.iterations)),
                      backend.floatx())

    lr = learning_rate

    @property
    def learning_rate_variable(self):
        """The shared variable holding the learning rate (None with a schedule)."""
        return self._lr

    # ----- slots -----
    def add_variable_from_reference(self, reference, name: str, initial: float = 0.0):
        """A slot variable shaped like ``reference`` (a shared weight), static shape included:
        the update may then overwrite it in place (a type differing from the weight's would
        make every step allocate a new buffer, and copy it into a Gemm's accumulator)."""
        value = np.full(reference.get_value(borrow=True).shape, initial,
                        dtype=reference.type.dtype)
        var = shared(value, name=f"{self.name}/{(reference.name or 'var').replace('/', '_')}_"
                                 f"{name}", shape=getattr(reference.type, "shape", None))
        self._variables.append(var)
        return var

    @property
    def variables(self) -> list:
        """iterations, then slot variables in creation order."""
        return [self.iterations] + self._variables

    def build(self, var_list: list) -> None:
        """Create the slot variables for ``var_list``."""
        self._built_for = list(var_list)

    # ----- updates -----
    def _clip(self, grads: list) -> list:
        # Keras applies only the first of clipnorm, global_clipnorm, clipvalue that is set.
        if self.clipnorm is not None:
            return [_clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm is not None:
            norm = T.sqrt(sum(T.sum(T.sqr(g)) for g in grads))
            scale = self.global_clipnorm / T.maximum(norm, self.global_clipnorm)
            return [g * T.cast(scale, g.dtype) for g in grads]
        if self.clipvalue is not None:
            return [T.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def get_updates(self, params: list, grads: list) -> list:
        """(shared, new value) pairs for one training step of ``params`` given ``grads``."""
        if len(params) != len(grads):
            raise ValueError(f"{self.name}: {len(params)} variables but {len(grads)} gradients")
        if self._built_for is None:
            self.build(params)
        elif [id(p) for p in params] != [id(p) for p in self._built_for]:
            raise ValueError(f"{self.name}: this optimizer was built for other variables; create "
                             f"a new optimizer for another model")
        grads = self._clip([T.cast(g, p.type.dtype) for p, g in zip(params, grads)])
        lr = self._current_lr()
        updates = []
        for index, (p, g) in enumerate(zip(params, grads)):
            self._index, self._dtype = index, p.type.dtype
            # the learning rate (floatx) in the weight's dtype: an update keeps its variable's
            # type (core.function refuses a float64 step for a float32 weight, as Theano)
            p_lr = lr if lr.dtype == p.type.dtype else T.cast(lr, p.type.dtype)
            var = p
            if self.weight_decay:
                var = p - p * (p_lr * self.weight_decay)
            updates.extend(self.update_step(g, p, var, p_lr))
        updates.append((self.iterations, self.iterations + 1))
        return updates

    def update_step(self, grad, param, value, lr) -> list:
        """Updates for one variable: ``param`` the shared weight, ``value`` its current value
        (after weight decay)."""
        raise NotImplementedError

    def _step_float(self):
        """The 1-based step number of the update being built, as a float scalar of the
        weight's dtype."""
        return T.cast(self.iterations + 1, getattr(self, "_dtype", None) or backend.floatx())

    def get_config(self) -> dict:
        lr = schedules.serialize(self._schedule) if isinstance(
            self._schedule, schedules.LearningRateSchedule) else float(self.learning_rate)
        return {"name": self.name, "learning_rate": lr,
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config: dict) -> "Optimizer":
        return cls(**config)


def _clip_by_norm(g, clip: float):
    """``g * clip / max(norm(g), clip)``, Keras's clip_by_norm (zero gradients pass)."""
    l2sum = T.sum(T.sqr(g))
    norm = T.sqrt(l2sum)
    return g * clip / T.maximum(norm, clip)
