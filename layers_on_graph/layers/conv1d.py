"""``Conv1D``: 1-d cross-correlation over (batch, steps, channels); kernel (k, in, out), bias."""
from __future__ import annotations

from .base_conv import BaseConv


class Conv1D(BaseConv):
    """Keras's Conv1D; ``padding`` 'valid', 'same' or 'causal' (zeros before the steps, so
    output step t sees only inputs up to t).

    Examples
    --------
    >>> y = Conv1D(16, 3, padding='causal', dilation_rate=2)(sequence)
    """

    rank = 1
    paddings = ("valid", "same", "causal")

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate=1, groups: int = 1, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, groups=groups,
                         **kwargs)
