"""``Softmax``: softmax over one or several axes, with an optional mask of kept entries."""
from __future__ import annotations

import numpy as np

import core.tensor as T

from .layer import Layer, static_shape


def large_negative(dtype: str) -> float:
    """What Keras puts at masked logits: -1e9 (float32 and wider), -3e4 (float16)."""
    return -3e4 if np.dtype(dtype) == np.float16 else -1e9


class Softmax(Layer):
    """``Softmax(axis=-1)``; ``layer(x, mask=m)`` gives masked entries probability 0.

    Examples
    --------
    >>> probs = Softmax()(scores, mask=keep)   # keep: 1 to keep, 0 to mask, broadcast to scores
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is not None:
            mask = self._as_bool(inputs, mask)
            inputs = T.switch(mask, inputs, np.asarray(large_negative(inputs.dtype),
                                                       dtype=inputs.dtype))
        if isinstance(self.axis, list) and len(self.axis) > 1:
            shifted = inputs - T.max(inputs, axis=self.axis, keepdims=True)
            out = T.exp(shifted)
            out = out / T.sum(out, axis=self.axis, keepdims=True)
        else:
            axis = self.axis[0] if isinstance(self.axis, list) else self.axis
            out = T.nnet.softmax(inputs, axis=axis)
        if mask is not None:
            out = T.switch(mask, out, np.asarray(0, dtype=out.dtype))
        return out

    def _as_bool(self, inputs, mask):
        mask = T.as_tensor_variable(mask)
        if mask.ndim > inputs.ndim:
            raise ValueError(f"{self.name}: the mask (shape {static_shape(mask)}) must not have "
                             f"more dimensions than the inputs (shape {static_shape(inputs)})")
        for m, i in zip(static_shape(mask)[::-1], static_shape(inputs)[::-1]):
            if m is not None and i is not None and m not in (1, i):
                raise ValueError(f"{self.name}: the mask (shape {static_shape(mask)}) must "
                                 f"broadcast to the inputs (shape {static_shape(inputs)})")
        if mask.dtype != "bool":
            mask = T.gt(mask, 0.5)
        if mask.ndim < inputs.ndim:  # broadcast along leading axes, as numpy
            mask = mask.dimshuffle(["x"] * (inputs.ndim - mask.ndim) + list(range(mask.ndim)))
        return mask

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
