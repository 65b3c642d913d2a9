"""Global settings of the layer library, as ``keras.backend``.

Layers compute in ``floatx()`` ('float32' by default, as Keras) whatever the
core's ``config.floatX``.
"""
from __future__ import annotations

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_UPDATES: list | None = None
_LOSSES: list | None = None


def floatx() -> str:
    """The dtype of weights and layer computations ('float32' by default)."""
    return _FLOATX


def set_floatx(dtype: str) -> None:
    """Set the default float dtype ('float16', 'float32' or 'float64')."""
    global _FLOATX
    if dtype not in ("float16", "float32", "float64"):
        raise ValueError(f"set_floatx: unknown float dtype {dtype!r}; use 'float16', 'float32' "
                         f"or 'float64'")
    _FLOATX = str(np.dtype(dtype))


def epsilon() -> float:
    """The fuzz factor used by losses (1e-7, as Keras)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor used by losses."""
    global _EPSILON
    _EPSILON = float(value)


def image_data_format() -> str:
    """Always 'channels_last', as Keras's default."""
    return "channels_last"


class collect_updates:
    """Context collecting state updates (``add_update``) made while building a graph.

    Examples
    --------
    >>> with collect_updates() as updates:
    ...     y = model(x, training=True)
    >>> updates   # [(shared_variable, new_value_expression), ...]
    """

    def __enter__(self) -> list:
        global _UPDATES
        self._previous = _UPDATES
        _UPDATES = []
        return _UPDATES

    def __exit__(self, *exc) -> None:
        global _UPDATES
        _UPDATES = self._previous


class collect_losses:
    """Context collecting the symbolic losses layers add while a graph is built
    (``Layer.add_loss``, activity regularizers)."""

    def __enter__(self) -> list:
        global _LOSSES
        self._previous = _LOSSES
        _LOSSES = []
        return _LOSSES

    def __exit__(self, *exc) -> None:
        global _LOSSES
        _LOSSES = self._previous


def add_loss(value) -> None:
    """Record a scalar symbolic loss for the training objective (if collecting)."""
    if _LOSSES is not None:
        _LOSSES.append(value)


def add_update(variable, new_value) -> None:
    """Record that ``variable`` takes ``new_value`` after a training step (if collecting).

    As Keras's ``assign``, the value is cast to the variable's dtype (``core.function``
    itself takes only updates of the variable's own type).
    """
    if _UPDATES is None:
        return
    if getattr(new_value, "dtype", None) not in (None, variable.dtype):
        import core.tensor as T

        new_value = T.cast(new_value, variable.dtype)
    for k, (v, _) in enumerate(_UPDATES):
        if v is variable:  # a shared layer called twice: the last call wins
            _UPDATES[k] = (variable, new_value)
            return
    _UPDATES.append((variable, new_value))
