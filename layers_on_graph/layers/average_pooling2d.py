"""``AveragePooling2D``: the mean of each window (padding excluded, as Keras)."""
from __future__ import annotations

from .pooling2d import Pooling2D


class AveragePooling2D(Pooling2D):
    """``AveragePooling2D((2, 2))``: (b, 28, 28, c) -> (b, 14, 14, c)."""

    _mode = "average"
