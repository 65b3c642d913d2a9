"""``Conv2D``: 2-d cross-correlation, channels_last, kernel (kh, kw, in, out) then bias."""
from __future__ import annotations

import core.tensor as T

from .. import activations, initializers, regularizers
from .conv_utils import check_input, normalize_padding, normalize_tuple, output_length, \
    same_padding
from .layer import Layer, static_shape


class Conv2D(Layer):
    """Keras's Conv2D on (batch, rows, cols, channels) inputs.

    Computed by the core's ``conv2d`` in Theano layout (transposed in and out) with
    ``filter_flip=False``, i.e. cross-correlation as Keras. 'same' padding follows TF
    (an odd total puts the extra zero row/column at the bottom/right).

    Examples
    --------
    >>> y = Conv2D(32, (3, 3), padding='same', activation='relu')(x)
    """

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 data_format: str | None = None, dilation_rate=(1, 1), groups: int = 1,
                 activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = type(self).__name__
        if not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"{owner}: filters must be a positive int, got {filters!r}")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{owner}: only data_format='channels_last' is supported")
        if groups != 1:
            raise ValueError(f"{owner}: groups={groups} is not supported")
        if kernel_constraint is not None or bias_constraint is not None:
            raise ValueError(f"{owner}: weight constraints are not supported")
        self.filters = filters
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size", owner)
        self.strides = normalize_tuple(strides, 2, "strides", owner)
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate", owner)
        if self.strides != (1, 1) and self.dilation_rate != (1, 1):
            raise ValueError(f"{owner}: strides > 1 and dilation_rate > 1 cannot be combined")
        self.padding = normalize_padding(padding, owner)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def build(self, input_shape) -> None:
        check_input(input_shape, self.name)
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"{self.name}: the channel axis of input shape "
                             f"{tuple(input_shape)} must be known")
        self.compute_output_shape(input_shape)
        self._built_rows_cols = tuple(input_shape[1:3])
        self.kernel = self.add_weight(shape=self.kernel_size + (channels, self.filters),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, name="kernel")
        self.bias = (self.add_weight(shape=(self.filters,), initializer=self.bias_initializer,
                                     regularizer=self.bias_regularizer, name="bias")
                     if self.use_bias else None)
        self.built = True

    def call(self, inputs):
        x = inputs.dimshuffle(0, 3, 1, 2)
        border = "valid"
        if self.padding == "same":
            rows, cols = static_shape(inputs)[1:3]
            rows = rows if rows is not None else self._built_rows_cols[0]
            cols = cols if cols is not None else self._built_rows_cols[1]
            if rows is None or cols is None:
                raise ValueError(f"{self.name}: padding='same' needs static rows and cols, got "
                                 f"input shape {static_shape(inputs)}")
            pads = [same_padding(n, k, s, d) for n, k, s, d in zip(
                (rows, cols), self.kernel_size, self.strides, self.dilation_rate)]
            x = _pad_after(x, pads[0][1] - pads[0][0], pads[1][1] - pads[1][0])
            border = (pads[0][0], pads[1][0])
        w = self.kernel.dimshuffle(3, 2, 0, 1)
        out = T.nnet.conv2d(x, w, border_mode=border, subsample=self.strides, filter_flip=False,
                            filter_dilation=self.dilation_rate)
        # bias and activation channels-last: the conv kernels write channels-last memory for
        # channels-last inputs, so these loops (and their gradients) see contiguous arrays
        out = out.dimshuffle(0, 2, 3, 1)
        if self.bias is not None:
            # added to the (pixels, filters) matrix: the C backend's row-broadcast loop runs
            # there (4-d broadcasting takes its strided path, ~3x slower); the reshapes are views
            out = T.reshape(out.reshape((-1, self.filters)) + self.bias, T.shape(out), ndim=4)
        return self.activation(out)

    def compute_output_shape(self, input_shape):
        check_input(input_shape, self.name)
        rows, cols = (output_length(n, k, self.padding, s, d) for n, k, s, d in zip(
            input_shape[1:3], self.kernel_size, self.strides, self.dilation_rate))
        if rows == 0 or cols == 0:
            raise ValueError(f"{self.name}: kernel {self.kernel_size} is larger than the input "
                             f"{tuple(input_shape)} with padding='valid'")
        return (input_shape[0], rows, cols, self.filters)

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding,
                "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias}


def _pad_after(x, extra_rows: int, extra_cols: int):
    """Append zero rows/cols at the bottom/right of (batch, channels, rows, cols)."""
    if extra_rows:
        zeros = T.zeros([T.shape_i(x, 0), T.shape_i(x, 1), extra_rows, T.shape_i(x, 3)],
                        dtype=x.dtype)
        x = T.concatenate([x, zeros], axis=2)
    if extra_cols:
        zeros = T.zeros([T.shape_i(x, 0), T.shape_i(x, 1), T.shape_i(x, 2), extra_cols],
                        dtype=x.dtype)
        x = T.concatenate([x, zeros], axis=3)
    return x
