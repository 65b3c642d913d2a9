"""``AveragePooling1D``: the mean of each window of steps (padding excluded, as Keras)."""
from __future__ import annotations

from .pooling1d import Pooling1D


class AveragePooling1D(Pooling1D):
    """``AveragePooling1D(2)``: (b, 10, f) -> (b, 5, f)."""

    _mode = "average"
