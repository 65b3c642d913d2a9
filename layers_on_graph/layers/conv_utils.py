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


def normalize_pairs(value, name: str, owner: str) -> tuple:
    """Keras's padding/cropping forms -> ((top, bottom), (left, right)).

    ``1 -> ((1, 1), (1, 1))``; ``(1, 2) -> ((1, 1), (2, 2))``; two pairs pass.
    """
    if isinstance(value, int):
        value = ((value, value), (value, value))
    elif len(value) == 2 and all(isinstance(v, int) for v in value):
        value = ((value[0], value[0]), (value[1], value[1]))
    pairs = tuple(tuple(p) for p in value)
    if len(pairs) != 2 or any(len(p) != 2 or not all(isinstance(v, int) and v >= 0 for v in p)
                              for p in pairs):
        raise ValueError(f"{owner}: {name} must be an int, a pair of ints or a pair of pairs "
                         f"of non-negative ints, got {value!r}")
    return pairs


def check_data_format(data_format, owner: str) -> None:
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{owner}: only data_format='channels_last' is supported, got "
                         f"{data_format!r}")


def set_window_options(layer, rank: int, kernel_size, strides, dilation_rate, padding,
                       paddings=("valid", "same")) -> None:
    """Check and store ``kernel_size``, ``strides``, ``dilation_rate`` (tuples of ``rank``)
    and ``padding`` on a convolution layer, as Keras checks them."""
    owner = type(layer).__name__
    layer.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", owner)
    layer.strides = normalize_tuple(strides, rank, "strides", owner)
    layer.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", owner)
    if max(layer.strides) > 1 and max(layer.dilation_rate) > 1:
        raise ValueError(f"{owner}: strides > 1 and dilation_rate > 1 cannot be combined")
    layer.padding = str(padding).lower()
    if layer.padding not in paddings:
        raise ValueError(f"{owner}: padding must be one of {paddings}, got {padding!r}")


def known_channels(layer, input_shape) -> int:
    """The channel (last) axis of ``input_shape``, which must be static."""
    channels = input_shape[-1]
    if channels is None:
        raise ValueError(f"{layer.name}: the channel axis of input shape {tuple(input_shape)} "
                         f"must be known")
    return channels


def make_bias(layer, size: int):
    """The layer's ``bias`` weight of ``(size,)``, or None without ``use_bias``."""
    if not layer.use_bias:
        return None
    return layer.add_weight(shape=(size,), initializer=layer.bias_initializer,
                            regularizer=layer.bias_regularizer, name="bias")
