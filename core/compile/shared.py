"""Shared variables: graph inputs whose value lives between function calls."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.basic import Variable


class SharedVariable(Variable):
    """A variable holding a value that every function using it reads and may update.

    Examples
    --------
    >>> w = shared(np.zeros(3), name='w'); w.get_value()
    array([0., 0., 0.])
    """

    _device = None  # the Backend whose memory holds the value (None: the host)

    def __init__(self, type, value: np.ndarray, name: str | None = None):
        super().__init__(type, None, None, name)
        self._value = value

    def get_value(self, borrow: bool = False, return_internal_type: bool = False):
        """The current value as a numpy array (a copy unless ``borrow``). A value held on a
        device (``device=cuda``) comes back as a host copy, as in Theano, unless
        ``return_internal_type`` asks for the device array itself."""
        if self._device is not None:
            return self._value if return_internal_type else self._device.to_host(self._value)
        return self._value if borrow else self._value.copy()

    def set_value(self, value: Any, borrow: bool = False) -> None:
        """Replace the value; it is checked against (and cast safely to) the type. A value
        on a device is overwritten in place when the shape is unchanged."""
        if self._device is not None:
            from .device import set_device_value

            set_device_value(self, value)
            return
        data = self.type.filter(value, what=f"set_value of shared variable {self.name or self}")
        self._value = data if (borrow or data is not value) else data.copy()

    @property
    def value(self):
        return self._value

    def clone(self) -> "SharedVariable":
        # A shared variable is a single storage cell: clones refer to the same value.
        return self

    def __str__(self) -> str:
        return self.name if self.name is not None else f"<shared {self.type}>"


def _tensor_shared_class():
    from ..tensor.variable import _TensorMethods

    class TensorSharedVariable(_TensorMethods, SharedVariable):
        """A shared tensor: supports every tensor operator."""

    return TensorSharedVariable


_TensorShared = None


def shared(value: Any, name: str | None = None, borrow: bool = False, strict: bool = False,
           allow_downcast: bool | None = None, shape=None, broadcastable=None) -> SharedVariable:
    """Create a shared variable holding ``value``.

    Python ints become int64 and Python floats ``config.floatX``-independent
    float64, as numpy would; arrays keep their dtype. No axis broadcasts unless
    ``shape``/``broadcastable`` says so, since the value may change shape later.

    Examples
    --------
    >>> state = shared(0); state.get_value()
    array(0)
    """
    global _TensorShared
    from ..tensor.type import TensorType

    if _TensorShared is None:
        _TensorShared = _tensor_shared_class()
    if isinstance(value, Variable):
        raise TypeError("shared() takes a value (an ndarray or number), not a symbolic variable")
    arr = np.array(value, copy=not borrow) if not isinstance(value, np.ndarray) or not borrow else value
    if arr.dtype == object or arr.dtype.kind not in "biufc":
        raise TypeError(f"shared: cannot hold a value of dtype {arr.dtype}")
    if shape is None:
        shape = tuple(1 if b else None for b in broadcastable) if broadcastable else (None,) * arr.ndim
    ttype = TensorType(str(arr.dtype), shape)
    return _TensorShared(ttype, ttype.filter(arr, what=f"shared {name or ''}".strip()), name)
