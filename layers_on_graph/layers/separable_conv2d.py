"""``SeparableConv2D``: a depthwise convolution, then a 1x1 (pointwise) convolution."""
from __future__ import annotations

import core.tensor as T

from .. import initializers, regularizers
from .conv_ops import add_bias, conv_nhwc, fused_activation
from .conv_utils import make_bias
from .depthwise_conv2d import DepthwiseConv2D, depthwise_filters


class SeparableConv2D(DepthwiseConv2D):
    """Keras's SeparableConv2D: (b, r, c, ch) -> (b, r', c', filters).

    Weights: ``depthwise_kernel`` (kh, kw, ch, depth_multiplier), ``pointwise_kernel``
    (1, 1, ch * depth_multiplier, filters), ``bias`` (filters,).

    Examples
    --------
    >>> y = SeparableConv2D(64, 3, padding='same', activation='relu')(x)
    """

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 data_format: str | None = None, dilation_rate=(1, 1),
                 depth_multiplier: int = 1, activation=None, use_bias: bool = True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        if pointwise_constraint is not None:
            raise ValueError("SeparableConv2D: weight constraints are not supported")
        super().__init__(kernel_size, strides=strides, padding=padding,
                         depth_multiplier=depth_multiplier, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         depthwise_initializer=depthwise_initializer,
                         bias_initializer=bias_initializer,
                         depthwise_regularizer=depthwise_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         depthwise_constraint=depthwise_constraint,
                         bias_constraint=bias_constraint, **kwargs)
        if not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"SeparableConv2D: filters must be a positive int, got {filters!r}")
        self.filters = filters
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)

    def build(self, input_shape) -> None:
        channels = self._prepare(input_shape)
        self.depthwise_kernel = self._depthwise_weight("depthwise_kernel", channels)
        self.pointwise_kernel = self.add_weight(
            shape=(1, 1, channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            name="pointwise_kernel")
        self.bias = make_bias(self, self.filters)
        self.built = True

    def call(self, inputs):
        depthwise = conv_nhwc(inputs, depthwise_filters(self.depthwise_kernel), self.kernel_size,
                              self.strides, self.dilation_rate, self.padding,
                              self._built_rows_cols, self.name, groups=self._channels)
        fused = fused_activation(self.activation, self.bias)
        if fused:  # Keras adds the bias and applies the activation after the 1x1 product:
            # both inside it, as Conv2D does (one pass over the output, not three)
            return conv_nhwc(depthwise, self.pointwise_kernel.dimshuffle(3, 2, 0, 1), (1, 1),
                             (1, 1), (1, 1), "valid", self._built_rows_cols, self.name,
                             bias=self.bias, activation=fused)
        # the 1x1 convolution is a product with the (in, filters) matrix
        middle = self._channels * self.depth_multiplier
        pointwise = self.pointwise_kernel.reshape((middle, self.filters))
        flat = T.dot(depthwise.reshape((-1, middle)), pointwise)
        shape = [T.shape_i(depthwise, d) for d in range(3)] + [self.filters]
        out = T.reshape(flat, shape, ndim=4)
        return add_bias(out, self.bias, self.filters, self.activation)

    def compute_output_shape(self, input_shape):
        shape = super().compute_output_shape(input_shape)
        return shape[:3] + (self.filters,)

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters,
                "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
                "pointwise_regularizer": self.pointwise_regularizer}
