"""``DepthwiseConv2D``: each input channel convolved with its own ``depth_multiplier`` filters."""
from __future__ import annotations

from .. import activations, initializers, regularizers
from .conv_ops import conv_bias_activation, conv_nhwc
from .conv_utils import check_data_format, check_input, known_channels, make_bias, \
    output_length, set_window_options
from .layer import Layer


def depthwise_filters(kernel):
    """Keras's (kh, kw, c, multiplier) kernel -> grouped_conv2d's (c * multiplier, 1, kh, kw):
    output channel ``c * multiplier + m`` reads input channel ``c``, as Keras."""
    kh, kw, c, m = kernel.get_value(borrow=True).shape
    return kernel.reshape((kh, kw, 1, c * m)).dimshuffle(3, 2, 0, 1)


class DepthwiseConv2D(Layer):
    """Keras's DepthwiseConv2D: (b, r, c, ch) -> (b, r', c', ch * depth_multiplier).

    Weights: ``kernel`` (kh, kw, ch, depth_multiplier), ``bias`` (ch * depth_multiplier,).

    Examples
    --------
    >>> y = DepthwiseConv2D(3, padding='same', use_bias=False)(x)   # MobileNet's block
    """

    def __init__(self, kernel_size, strides=(1, 1), padding: str = "valid",
                 depth_multiplier: int = 1, data_format: str | None = None,
                 dilation_rate=(1, 1), activation=None, use_bias: bool = True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = type(self).__name__
        check_data_format(data_format, owner)
        if not isinstance(depth_multiplier, int) or depth_multiplier < 1:
            raise ValueError(f"{owner}: depth_multiplier must be a positive int, got "
                             f"{depth_multiplier!r}")
        if depthwise_constraint is not None or bias_constraint is not None:
            raise ValueError(f"{owner}: weight constraints are not supported")
        set_window_options(self, 2, kernel_size, strides, dilation_rate, padding)
        self.depth_multiplier = depth_multiplier
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def build(self, input_shape) -> None:
        channels = self._prepare(input_shape)
        self.kernel = self._depthwise_weight("kernel", channels)
        self.bias = make_bias(self, channels * self.depth_multiplier)
        self.built = True

    def _prepare(self, input_shape) -> int:
        """Check ``input_shape``, remember its sizes; the number of input channels."""
        self.compute_output_shape(input_shape)
        self._channels = known_channels(self, input_shape)
        self._built_rows_cols = tuple(input_shape[1:3])
        return self._channels

    def _depthwise_weight(self, name: str, channels: int):
        return self.add_weight(shape=self.kernel_size + (channels, self.depth_multiplier),
                               initializer=self.depthwise_initializer,
                               regularizer=self.depthwise_regularizer, name=name)

    def call(self, inputs):
        def conv(**fused):
            return conv_nhwc(inputs, depthwise_filters(self.kernel), self.kernel_size,
                             self.strides, self.dilation_rate, self.padding,
                             self._built_rows_cols, self.name, groups=self._channels, **fused)

        return conv_bias_activation(conv, self.bias, self.activation,
                                    self._channels * self.depth_multiplier)

    def compute_output_shape(self, input_shape):
        check_input(input_shape, self.name)
        rows, cols = (output_length(n, k, self.padding, s, d) for n, k, s, d in zip(
            input_shape[1:3], self.kernel_size, self.strides, self.dilation_rate))
        if rows == 0 or cols == 0:
            raise ValueError(f"{self.name}: kernel {self.kernel_size} is larger than the input "
                             f"{tuple(input_shape)} with padding='valid'")
        channels = None if input_shape[3] is None else input_shape[3] * self.depth_multiplier
        return (input_shape[0], rows, cols, channels)

    def get_config(self) -> dict:
        return {**super().get_config(), "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding,
                "depth_multiplier": self.depth_multiplier, "data_format": "channels_last",
                "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "depthwise_regularizer": self.depthwise_regularizer,
                "bias_regularizer": self.bias_regularizer}
