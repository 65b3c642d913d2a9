"""``Conv2DTranspose``: the gradient of Conv2D with respect to its input, as a layer."""
from __future__ import annotations

import core.tensor as T
from core.tensor.conv import Conv2dGradInputs

from .. import activations, initializers, regularizers
from .conv_ops import add_bias, pad_after
from .conv_utils import check_data_format, check_input, known_channels, make_bias, \
    set_window_options
from .layer import Layer


def transpose_pads(kernel: int, stride: int, dilation: int, padding: str,
                   output_padding: int | None) -> tuple[int, int]:
    """Keras's (left, right) padding of the stride-dilated input before a valid convolution."""
    k = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(k, stride) - k if output_padding is None else output_padding
        return k - 1, k - 1 + extra
    total = stride + k - 2 if output_padding is None else k + k % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, k - 1)
    return left, total - left


class Conv2DTranspose(Layer):
    """Keras's Conv2DTranspose (a.k.a. deconvolution): (b, r, c, in) -> (b, r', c', filters).

    Weights: ``kernel`` (kh, kw, filters, in), ``bias`` (filters,). With 'same' padding and
    no ``output_padding`` the output is ``strides`` times the input.

    Examples
    --------
    >>> y = Conv2DTranspose(16, 3, strides=2, padding='same')(x)   # (b, 8, 8, c) -> (b, 16, 16, 16)
    """

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 output_padding=None, data_format: str | None = None, dilation_rate=(1, 1),
                 activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = type(self).__name__
        if not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"{owner}: filters must be a positive int, got {filters!r}")
        check_data_format(data_format, owner)
        if kernel_constraint is not None or bias_constraint is not None:
            raise ValueError(f"{owner}: weight constraints are not supported")
        self.filters = filters
        set_window_options(self, 2, kernel_size, strides, dilation_rate, padding)
        if output_padding is not None:
            output_padding = (output_padding,) * 2 if isinstance(output_padding, int) \
                else tuple(output_padding)
            if len(output_padding) != 2 or any(
                    not isinstance(p, int) or p < 0 or p >= s
                    for p, s in zip(output_padding, self.strides)):
                raise ValueError(f"{owner}: output_padding must be non-negative ints smaller "
                                 f"than strides {self.strides}, got {output_padding!r}")
        self.output_padding = output_padding
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def _pads(self) -> list[tuple[int, int]]:
        out_pad = self.output_padding or (None, None)
        return [transpose_pads(k, s, d, self.padding, p) for k, s, d, p in zip(
            self.kernel_size, self.strides, self.dilation_rate, out_pad)]

    def build(self, input_shape) -> None:
        self.compute_output_shape(input_shape)
        channels = known_channels(self, input_shape)
        self.kernel = self.add_weight(shape=self.kernel_size + (self.filters, channels),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, name="kernel")
        self.bias = make_bias(self, self.filters)
        self.built = True

    def call(self, inputs):
        x = inputs.dimshuffle(0, 3, 1, 2)
        effective = [(k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilation_rate)]
        # the full output: every input pixel's kernel footprint, (n - 1) * s + k long
        full = [(T.shape_i(x, 2 + i) - 1) * self.strides[i] + effective[i] for i in range(2)]
        op = Conv2dGradInputs(border_mode="valid", subsample=self.strides, filter_flip=False,
                              filter_dilation=self.dilation_rate)
        out = op(self.kernel.dimshuffle(3, 2, 0, 1), x, T.stack(full))
        # Keras's window of it: crop (or zero-extend) each side
        crops = [(k - 1 - left, k - 1 - right) for k, (left, right) in zip(effective,
                                                                          self._pads())]
        out = pad_after(out, max(0, -crops[0][1]), max(0, -crops[1][1]))
        (top, bottom), (left, right) = [(a, max(b, 0)) for a, b in crops]
        out = out[:, :, top:-bottom or None, left:-right or None].dimshuffle(0, 2, 3, 1)
        return add_bias(out, self.bias, self.filters, self.activation)

    def compute_output_shape(self, input_shape):
        check_input(input_shape, self.name)
        sizes = []
        for n, k, s, d, (left, right) in zip(input_shape[1:3], self.kernel_size, self.strides,
                                             self.dilation_rate, self._pads()):
            effective = (k - 1) * d + 1
            sizes.append(None if n is None else (n - 1) * s + 1 + left + right - effective + 1)
        return (input_shape[0], sizes[0], sizes[1], self.filters)

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding,
                "output_padding": self.output_padding, "data_format": "channels_last",
                "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": self.kernel_regularizer,
                "bias_regularizer": self.bias_regularizer}
