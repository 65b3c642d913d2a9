"""Argument checks and output sizes shared by the 2-d convolution and pooling layers."""
from __future__ import annotations

import math


def normalize_tuple(value, n: int, name: str, owner: str) -> tuple:
    """``3 -> (3, 3)``; a tuple of ``n`` positive ints passes; otherwise ValueError."""
    if isinstance(value, int):
        value = (value,) * n
    value = tuple(value)
    if len(value) != n or not all(isinstance(v, int) and v > 0 for v in value):
        raise ValueError(f"{owner}: {name} must be a positive int or a tuple of {n} positive "
                         f"ints, got {value!r}")
    return value


def normalize_padding(padding: str, owner: str) -> str:
    padding = str(padding).lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"{owner}: padding must be 'valid' or 'same', got {padding!r}")
    return padding


def output_length(size, window: int, padding: str, stride: int, dilation: int = 1):
    """Keras/TF output length along one axis (None stays None)."""
    if size is None:
        return None
    effective = (window - 1) * dilation + 1
    if padding == "same":
        return math.ceil(size / stride)
    return max(0, (size - effective) // stride + 1)


def same_padding(size: int, window: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """(before, after) zero padding of TF's 'same' (the extra one goes after)."""
    effective = (window - 1) * dilation + 1
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def check_input(input_shape, owner: str) -> None:
    if len(input_shape) != 4:
        raise ValueError(f"{owner}: expects inputs of rank 4 (batch, rows, cols, channels), "
                         f"got shape {tuple(input_shape)}")
