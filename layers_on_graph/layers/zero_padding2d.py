"""``ZeroPadding2D``: zero rows at the top/bottom and zero columns at the left/right."""
from __future__ import annotations

import core.tensor as T

from .conv_utils import check_data_format, check_input, normalize_pairs
from .layer import Layer
from .tensor_utils import fresh


def pad_rows_cols(x, pads, value: float = 0.0):
    """Pad (batch, rows, cols, channels) ``x`` by ``((top, bottom), (left, right))`` with
    ``value`` (zeros by default)."""
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return fresh(x)
    shape = [T.shape_i(x, 0), T.shape_i(x, 1) + (top + bottom), T.shape_i(x, 2) + (left + right),
             T.shape_i(x, 3)]
    filled = T.alloc(T.constant(value, dtype=x.dtype), *shape)
    return T.set_subtensor(filled[:, top:-bottom or None, left:-right or None, :], x)


class ZeroPadding2D(Layer):
    """``ZeroPadding2D(padding=1)``: (b, r, c, ch) -> (b, r + 2, c + 2, ch).

    ``padding``: an int, ``(rows, cols)`` (symmetric) or ``((top, bottom), (left, right))``.
    """

    def __init__(self, padding=(1, 1), data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        check_data_format(data_format, "ZeroPadding2D")
        self.padding = normalize_pairs(padding, "padding", "ZeroPadding2D")

    def build(self, input_shape) -> None:
        check_input(input_shape, self.name)
        self.built = True

    def call(self, inputs):
        return pad_rows_cols(inputs, self.padding)

    def compute_output_shape(self, input_shape):
        check_input(input_shape, self.name)
        rows, cols = (None if n is None else n + sum(p)
                      for n, p in zip(input_shape[1:3], self.padding))
        return (input_shape[0], rows, cols, input_shape[3])

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding,
                "data_format": "channels_last"}
