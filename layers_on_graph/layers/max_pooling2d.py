"""``MaxPooling2D``: the maximum of each window."""
from __future__ import annotations

from .pooling2d import Pooling2D


class MaxPooling2D(Pooling2D):
    """``MaxPooling2D((2, 2))``: (b, 28, 28, c) -> (b, 14, 14, c)."""

    _mode = "max"
