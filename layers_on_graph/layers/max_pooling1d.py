"""``MaxPooling1D``: the maximum of each window of steps."""
from __future__ import annotations

from .pooling1d import Pooling1D


class MaxPooling1D(Pooling1D):
    """``MaxPooling1D(2)``: (b, 10, f) -> (b, 5, f)."""

    _mode = "max"
