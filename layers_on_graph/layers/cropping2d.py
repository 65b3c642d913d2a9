"""``Cropping2D``: drop rows at the top/bottom and columns at the left/right."""
from __future__ import annotations

from .conv_utils import check_data_format, check_input, normalize_pairs
from .layer import Layer


class Cropping2D(Layer):
    """``Cropping2D(cropping=((1, 1), (2, 2)))``: (b, r, c, ch) -> (b, r - 2, c - 4, ch).

    ``cropping``: an int, ``(rows, cols)`` (symmetric) or ``((top, bottom), (left, right))``.
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        check_data_format(data_format, "Cropping2D")
        self.cropping = normalize_pairs(cropping, "cropping", "Cropping2D")

    def build(self, input_shape) -> None:
        self.compute_output_shape(input_shape)
        self.built = True

    def call(self, inputs):
        (top, bottom), (left, right) = self.cropping
        return inputs[:, top:-bottom or None, left:-right or None, :]

    def compute_output_shape(self, input_shape):
        check_input(input_shape, self.name)
        sizes = []
        for n, (before, after) in zip(input_shape[1:3], self.cropping):
            if n is not None and n - before - after <= 0:
                raise ValueError(f"{self.name}: cropping {self.cropping} leaves nothing of "
                                 f"input shape {tuple(input_shape)}")
            sizes.append(None if n is None else n - before - after)
        return (input_shape[0], sizes[0], sizes[1], input_shape[3])

    def get_config(self) -> dict:
        return {**super().get_config(), "cropping": self.cropping,
                "data_format": "channels_last"}
