"""``Input()`` and ``InputLayer``: the symbolic entry points of a model."""
from __future__ import annotations

import numpy as np

from .. import backend
from ..keras_tensor import placeholder
from .layer import Layer, Node


class InputLayer(Layer):
    """Holds the symbolic placeholder a functional model starts from.

    Examples
    --------
    >>> x = Input(shape=(64,)); x.type
    TensorType(float32, (None, 64))
    """

    def __init__(self, shape=None, batch_size: int | None = None, dtype: str | None = None,
                 name: str | None = None, batch_shape=None, **kwargs):
        super().__init__(name=name, dtype=dtype or backend.floatx(), **kwargs)
        if batch_shape is None:
            if shape is None:
                raise ValueError("Input: give shape= (without the batch axis) or batch_shape=")
            batch_shape = (batch_size,) + tuple(shape)
        batch_shape = tuple(None if s is None else int(s) for s in batch_shape)
        if any(s is not None and s < 0 for s in batch_shape):
            raise ValueError(f"Input: negative dimension in shape {batch_shape}")
        self.batch_shape = batch_shape
        var = placeholder(self.dtype, batch_shape, self.name)
        var._keras_shape = batch_shape
        node = Node(self, (), {}, var)
        self._inbound_nodes.append(node)
        var._keras_history = (self, node, 0)
        self.built = True

    def get_config(self) -> dict:
        return {"batch_shape": self.batch_shape, "dtype": self.dtype, "name": self.name}


def Input(shape=None, batch_size: int | None = None, dtype: str | None = None,
          name: str | None = None, batch_shape=None):
    """A symbolic input of ``shape`` (without the batch axis) for functional models.

    Examples
    --------
    >>> inputs = Input(shape=(64,)); outputs = layers.Dense(10)(inputs)
    >>> model = Model(inputs, outputs)
    """
    if dtype is not None:
        dtype = str(np.dtype(dtype))
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name,
                       batch_shape=batch_shape)
    return layer.output
