"""``KerasTensor``: a symbolic tensor whose ``shape`` is a tuple of ints and None, as Keras 3's.

``Input()`` returns one, and a layer called on one returns them, as do the
operators, methods and ``layers_on_graph.ops`` functions applied to them. It is a
``TensorVariable`` in every other way, so ``core.tensor`` ops accept it. Plain
core variables keep Theano's symbolic ``x.shape``: a graph built with ``T.matrix``
never becomes Keras-shaped.
"""
from __future__ import annotations

import functools

import numpy as np

from core.tensor.type import TensorType
from core.tensor.variable import TensorVariable, _TensorMethods

# methods of _TensorMethods that do not return a tensor
_NOT_WRAPPED = {"__bool__", "__iter__", "__len__", "__array_ufunc__", "nonzero", "dtype", "ndim",
                "broadcastable", "shape", "size"}


class KerasTensor(TensorVariable):
    """A symbolic tensor with Keras 3's static ``shape``.

    Examples
    --------
    >>> x = Input(shape=(6,)); x.shape
    (None, 6)
    >>> layers.Dense(x.shape[-1])(x).shape
    (None, 6)
    """

    @property
    def shape(self) -> tuple:
        """The static shape: a tuple of ints, with None where unknown."""
        shape = getattr(self, "_keras_shape", None)
        return tuple(shape) if shape is not None else tuple(self.type.shape)

    @property
    def size(self):
        """The number of elements, symbolic (a Theano ``size``)."""
        from core.tensor import math, shape_ops

        return math.prod(shape_ops.shape(self))

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def numpy(self):
        raise TypeError("a KerasTensor is symbolic and has no value; call the model on data "
                        "(model.predict) or compile a function to evaluate it")


def _wrapping(method):
    @functools.wraps(method)
    def wrapped(*args, **kwargs):
        return as_keras_tensor(method(*args, **kwargs))

    return wrapped


for _name, _attr in list(vars(_TensorMethods).items()):
    if _name in _NOT_WRAPPED:
        continue
    if isinstance(_attr, property):
        setattr(KerasTensor, _name, property(_wrapping(_attr.fget)))
    elif callable(_attr):
        setattr(KerasTensor, _name, _wrapping(_attr))


def as_keras_tensor(x):
    """Make the plain symbolic tensors in ``x`` (one, or a list/tuple/dict) Keras tensors.

    Only exact ``TensorVariable`` objects change class (in place: the graph keeps them);
    constants, shared variables and non-tensors pass through.
    """
    if isinstance(x, (list, tuple)):
        return type(x)(as_keras_tensor(e) for e in x)
    if isinstance(x, dict):
        return {k: as_keras_tensor(v) for k, v in x.items()}
    if type(x) is TensorVariable:
        x.__class__ = KerasTensor
    return x


def is_keras_tensor(x) -> bool:
    """True for a ``KerasTensor`` (what ``Input`` and layer calls on them return)."""
    return isinstance(x, KerasTensor)


def placeholder(dtype: str, shape: tuple, name: str | None = None) -> KerasTensor:
    """A fresh input ``KerasTensor`` of ``dtype`` and static ``shape`` (None: unknown)."""
    ttype = TensorType(str(np.dtype(dtype)), tuple(shape))
    return KerasTensor(ttype, None, None, name)
