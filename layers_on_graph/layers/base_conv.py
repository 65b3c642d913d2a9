"""``BaseConv``: what Conv1D and Conv2D share (channels_last, Keras's arguments and weights)."""
from __future__ import annotations

from .. import activations, initializers, regularizers
from .conv_ops import conv_bias_activation, conv_nhwc
from .conv_utils import check_data_format, known_channels, make_bias, output_length, \
    set_window_options
from .layer import Layer


class BaseConv(Layer):
    """A ``rank``-d convolution: kernel ``kernel_size + (in // groups, filters)``, then bias.

    Computed by the core's ``conv2d`` (``grouped_conv2d`` when ``groups > 1``) in Theano
    layout with ``filter_flip=False``: cross-correlation, as Keras. A 1-d convolution runs
    as a 2-d one over (steps, 1).
    """

    rank = 2
    paddings = ("valid", "same")

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate=1, groups: int = 1,
                 activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner, n = type(self).__name__, self.rank
        if not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"{owner}: filters must be a positive int, got {filters!r}")
        check_data_format(data_format, owner)
        if not isinstance(groups, int) or groups < 1 or filters % groups:
            raise ValueError(f"{owner}: groups must be a positive int dividing filters="
                             f"{filters}, got {groups!r}")
        if kernel_constraint is not None or bias_constraint is not None:
            raise ValueError(f"{owner}: weight constraints are not supported")
        self.filters = filters
        self.groups = groups
        set_window_options(self, n, kernel_size, strides, dilation_rate, padding, self.paddings)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def _check_rank(self, input_shape) -> None:
        if len(input_shape) != self.rank + 2:
            axes = "(batch, steps, channels)" if self.rank == 1 else \
                "(batch, rows, cols, channels)"
            raise ValueError(f"{self.name}: expects inputs of rank {self.rank + 2} {axes}, "
                             f"got shape {tuple(input_shape)}")

    def build(self, input_shape) -> None:
        self.compute_output_shape(input_shape)
        channels = known_channels(self, input_shape)
        if channels % self.groups:
            raise ValueError(f"{self.name}: {channels} input channels do not split into "
                             f"groups={self.groups}")
        self._built_sizes = tuple(input_shape[1:-1])
        self.kernel = self.add_weight(
            shape=self.kernel_size + (channels // self.groups, self.filters),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            name="kernel")
        self.bias = make_bias(self, self.filters)
        self.built = True

    def call(self, inputs):
        def conv(**fused):
            if self.rank == 1:  # (b, steps, c) -> (b, steps, 1, c) and a (k, 1) kernel
                x = inputs.dimshuffle(0, 1, "x", 2)
                filters = self.kernel.dimshuffle(2, 1, 0, "x")
                return conv_nhwc(x, filters, self.kernel_size + (1,), self.strides + (1,),
                                 self.dilation_rate + (1,), self.padding,
                                 self._built_sizes + (1,), self.name, self.groups,
                                 **fused)[:, :, 0, :]
            return conv_nhwc(inputs, self.kernel.dimshuffle(3, 2, 0, 1), self.kernel_size,
                             self.strides, self.dilation_rate, self.padding, self._built_sizes,
                             self.name, self.groups, **fused)

        return conv_bias_activation(conv, self.bias, self.activation, self.filters)

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        padding = "same" if self.padding == "causal" else self.padding
        if self.padding == "causal":  # the output is as long as the input at stride 1
            sizes = [None if n is None else (n - 1) // s + 1
                     for n, s in zip(input_shape[1:-1], self.strides)]
        else:
            sizes = [output_length(n, k, padding, s, d) for n, k, s, d in zip(
                input_shape[1:-1], self.kernel_size, self.strides, self.dilation_rate)]
        if 0 in sizes:
            raise ValueError(f"{self.name}: kernel {self.kernel_size} is larger than the input "
                             f"{tuple(input_shape)} with padding='valid'")
        return (input_shape[0], *sizes, self.filters)

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding,
                "data_format": "channels_last", "dilation_rate": self.dilation_rate,
                "groups": self.groups, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": self.kernel_regularizer,
                "bias_regularizer": self.bias_regularizer}
