"""``Conv2D``: 2-d cross-correlation, channels_last, kernel (kh, kw, in // groups, out), bias."""
from __future__ import annotations

from .base_conv import BaseConv


class Conv2D(BaseConv):
    """Keras's Conv2D on (batch, rows, cols, channels) inputs.

    'same' padding follows TF (an odd total puts the extra zero row/column at the
    bottom/right); ``groups > 1`` splits the channels into independent groups.

    Examples
    --------
    >>> y = Conv2D(32, (3, 3), padding='same', activation='relu')(x)
    """

    rank = 2

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 data_format: str | None = None, dilation_rate=(1, 1), groups: int = 1,
                 **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, groups=groups,
                         **kwargs)
