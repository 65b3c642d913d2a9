"""Weights that behave like Keras 3 variables while staying ``core.shared`` variables.

``add_weight`` turns its shared variable into a ``KerasVariable`` (the class changes in
place), which adds Keras 3's ``numpy()``, ``np.asarray(w)``, ``assign``/``assign_add``/
``assign_sub``, a tuple ``shape``, ``trainable`` and ``path``. Inside a layer's ``call``
(symbolic values) ``assign*`` records an update of the compiled function, as a Keras
stateful layer does; outside, it sets the value at once.
"""
from __future__ import annotations

import numpy as np

from core.graph.basic import Variable as GraphVariable

from .. import backend


class _KerasVariableMixin:
    """Keras 3 variable API over a ``TensorSharedVariable``."""

    @property
    def shape(self) -> tuple:
        """The value's shape, as a tuple of ints."""
        return tuple(self.get_value(borrow=True).shape)

    @property
    def path(self) -> str:
        """``layer_name/weight_name``, as Keras 3's ``Variable.path``."""
        return self.name

    @property
    def trainable(self) -> bool:
        return self._keras_trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._keras_trainable = bool(value)
        layer = getattr(self, "_keras_layer", None)
        if layer is not None:
            layer._trainable_flags[id(self)] = bool(value)

    def numpy(self) -> np.ndarray:
        """A copy of the current value."""
        return self.get_value()

    def __array__(self, dtype=None, copy=None):
        value = self.get_value(borrow=True)
        return value.astype(dtype) if dtype is not None else value.copy()

    def __float__(self) -> float:
        return float(self.get_value(borrow=True))

    def __int__(self) -> int:
        return int(self.get_value(borrow=True))

    def assign(self, value):
        """Set the value: now for a number or array, or for a symbolic value outside any layer
        call (computed at once); inside ``call``, as an update of the compiled step."""
        if isinstance(value, GraphVariable):
            from .layer import _TRAINING

            if _TRAINING:  # inside a layer's call
                backend.add_update(self, value)
                return value
            value = _evaluate(value, self.path)
        arr = np.asarray(value, dtype=self.dtype)
        if arr.shape != self.shape:
            try:
                arr = np.broadcast_to(arr, self.shape).copy()
            except ValueError:
                raise ValueError(f"assign: variable {self.path!r} has shape {self.shape}, got a "
                                 f"value of shape {arr.shape}") from None
        self.set_value(arr)
        return self

    def assign_add(self, value):
        """``self += value`` (symbolic values become an update of the compiled step)."""
        if isinstance(value, GraphVariable):
            return self.assign(self + value)
        return self.assign(self.get_value(borrow=True) + np.asarray(value))

    def assign_sub(self, value):
        """``self -= value`` (symbolic values become an update of the compiled step)."""
        if isinstance(value, GraphVariable):
            return self.assign(self - value)
        return self.assign(self.get_value(borrow=True) - np.asarray(value))

    def __repr__(self) -> str:
        return (f"<KerasVariable shape={self.shape}, dtype={self.dtype}, path={self.path}>")


def _evaluate(value, where: str) -> np.ndarray:
    """The value of a graph with no free inputs (shared variables and constants only)."""
    from core import function
    from core.graph.utils import graph_inputs

    free = [v for v in graph_inputs([value]) if v.owner is None and not hasattr(v, "get_value")
            and not hasattr(v, "data")]
    if free:
        raise ValueError(f"assign to {where!r}: the value depends on the symbolic input(s) "
                         f"{[str(v) for v in free]}, so it has no value outside a layer call")
    return function([], value)()


_CLASSES: dict[type, type] = {}


def as_keras_variable(var, layer=None, trainable: bool = True):
    """Give the shared tensor ``var`` the Keras variable API (in place) and return it."""
    base = type(var)
    if base not in _CLASSES and not issubclass(base, _KerasVariableMixin):
        _CLASSES[base] = type("KerasVariable", (_KerasVariableMixin, base), {})
    if not isinstance(var, _KerasVariableMixin):
        var.__class__ = _CLASSES[base]
    var._keras_layer = layer
    var._keras_trainable = bool(trainable)
    return var


def is_keras_variable(x) -> bool:
    return isinstance(x, _KerasVariableMixin)


def Variable(initializer, shape=None, dtype=None, trainable: bool = True, name=None):
    """A standalone Keras variable (``keras.Variable``): from an array, a number, or an
    initializer (name or callable) with ``shape``.

    Examples
    --------
    >>> v = Variable(np.zeros(3)); v.assign_add(np.ones(3)); v.numpy()
    array([1., 1., 1.], dtype=float32)
    """
    from core import shared

    from .. import initializers

    if isinstance(initializer, str) or (callable(initializer) and shape is not None):
        if shape is None:
            raise ValueError(f"Variable: an initializer ({initializer!r}) needs a shape")
        value = initializers.get(initializer)(tuple(shape), dtype=dtype or backend.floatx())
    else:
        value = initializer
    if dtype is None and not hasattr(value, "dtype"):  # Python numbers and lists: floatx
        dtype = backend.floatx() if np.asarray(value).dtype.kind == "f" else None
    value = np.asarray(value)
    dtype = dtype or str(value.dtype)
    value = value.astype(dtype)
    var = shared(value, name=name or "variable", shape=value.shape)
    return as_keras_variable(var, None, trainable)
