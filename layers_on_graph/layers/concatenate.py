"""``Concatenate``: join a list of tensors along ``axis`` (default the last)."""
from __future__ import annotations

import core.tensor as T

from .merging import Merge


class Concatenate(Merge):
    """``Concatenate()([a, b])``: shapes equal except along ``axis``."""

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def compute_output_shape(self, input_shape):
        shapes = self._check_inputs(input_shape)
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes) or not -rank <= self.axis < rank:
            raise ValueError(f"{self.name}: cannot concatenate shapes {shapes} on axis {self.axis}")
        axis = self.axis % rank
        out = list(shapes[0])
        for d in range(rank):
            dims = [s[d] for s in shapes]
            if d == axis:
                out[d] = None if None in dims else sum(dims)
            else:
                known = {x for x in dims if x is not None}
                if len(known) > 1:
                    raise ValueError(f"{self.name}: shapes {shapes} differ on axis {d}, not only "
                                     f"on the concatenation axis {self.axis}")
                out[d] = known.pop() if known else None
        return tuple(out)

    def _merge(self, inputs):
        return T.concatenate(inputs, axis=self.axis % inputs[0].ndim)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
