"""``Add``: elementwise sum of a list of tensors."""
from __future__ import annotations

from .merging import Merge


class Add(Merge):
    """``Add()([a, b])`` = a + b (same shapes)."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out
