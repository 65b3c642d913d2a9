"""Grouped 2-d convolution (depthwise when every group holds one input channel).

Theano's layout: input ``(batch, channels, rows, cols)``, filters
``(out_channels, channels // num_groups, krows, kcols)``; output channel ``f`` reads only
the input channels of group ``f // (out_channels // num_groups)``. With
``num_groups == channels`` this is a depthwise convolution (Keras's ``DepthwiseConv2D``:
output channel ``c * multiplier + m`` reads input channel ``c``). The two gradients are
ops of their own, as for ``conv2d``.
"""
from __future__ import annotations

from ..graph.basic import Apply, Variable
from ..graph.trace import format_trace, user_frame
from .conv import Conv2dBiasAct, _ConvBase, _shape_vector, _spatial, _static
from .type import TensorType


def _positive(num_groups) -> int:
    if int(num_groups) < 1:
        raise ValueError(f"grouped_conv2d: num_groups must be positive, got {num_groups}")
    return int(num_groups)


class _GroupedBase(_ConvBase):
    __props__ = _ConvBase.__props__ + ("num_groups",)

    def __init__(self, border_mode="valid", subsample=(1, 1), filter_flip: bool = True,
                 filter_dilation=(1, 1), num_groups: int = 1):
        super().__init__(border_mode, subsample, filter_flip, filter_dilation)
        self.num_groups = _positive(num_groups)

    def _params(self):
        return {**super()._params(), "num_groups": self.num_groups}

    def _check_groups(self, channels, out_channels, kern_channels) -> None:
        g = self.num_groups
        bad = ((channels is not None and channels % g) or
               (out_channels is not None and out_channels % g) or
               (channels is not None and kern_channels is not None
                and channels != kern_channels * g))
        if bad:
            raise ValueError(f"grouped_conv2d: {channels} input channels, {out_channels} output "
                             f"channels and filters of {kern_channels} channels each do not "
                             f"split into {g} groups, at {format_trace(user_frame())}")


class GroupedConv2d(_GroupedBase):
    """``grouped_conv2d(input, filters)``; see the module docstring."""

    def make_node(self, img, kern) -> Apply:
        img, kern, dtype = self._float_pair(img, kern, "grouped_conv2d")
        self._check_groups(img.type.shape[1], kern.type.shape[0], kern.type.shape[1])
        ho, wo = self._out_hw(img.type.shape[2:], kern.type.shape[2:])
        for o in (ho, wo):
            if o is not None and o < 1:
                raise ValueError(f"grouped_conv2d: input {img.type.shape} is smaller than the "
                                 f"(dilated) filters {kern.type.shape} with border_mode="
                                 f"{self.border_mode!r}, at {format_trace(user_frame())}")
        shape = (img.type.shape[0], kern.type.shape[0], ho, wo)
        return Apply(self, [img, kern], [TensorType(dtype, shape)()])

    def grad(self, inputs, gz):
        img, kern = inputs
        g = gz[0]
        return [GroupedConv2dGradInputs(**self._params())(kern, g, _spatial(img)),
                GroupedConv2dGradWeights(**self._params())(img, g, _spatial(kern))]


class GroupedConv2dGradWeights(_GroupedBase):
    """Gradient of ``grouped_conv2d`` with respect to the filters: ``(img, topgrad, (kh, kw))``."""

    def make_node(self, img, topgrad, kshape) -> Apply:
        img, topgrad, dtype = self._float_pair(img, topgrad, "grouped_conv2d (filter gradient)")
        kshape = _shape_vector(kshape, "GroupedConv2dGradWeights")
        channels = img.type.shape[1]
        per_group = channels // self.num_groups if channels is not None else None
        shape = (topgrad.type.shape[1], per_group, *_static(kshape))
        return Apply(self, [img, topgrad, kshape], [TensorType(dtype, shape)()])

    def grad(self, inputs, gz):
        img, topgrad, _ = inputs
        g = gz[0]
        return [GroupedConv2dGradInputs(**self._params())(g, topgrad, _spatial(img)),
                GroupedConv2d(**self._params())(img, g), None]


class GroupedConv2dGradInputs(_GroupedBase):
    """Gradient of ``grouped_conv2d`` with respect to its input: ``(kern, topgrad, (h, w))``."""

    def make_node(self, kern, topgrad, ishape) -> Apply:
        kern, topgrad, dtype = self._float_pair(kern, topgrad, "grouped_conv2d (input gradient)")
        ishape = _shape_vector(ishape, "GroupedConv2dGradInputs")
        per_group = kern.type.shape[1]
        channels = per_group * self.num_groups if per_group is not None else None
        shape = (topgrad.type.shape[0], channels, *_static(ishape))
        return Apply(self, [kern, topgrad, ishape], [TensorType(dtype, shape)()])

    def grad(self, inputs, gz):
        kern, topgrad, _ = inputs
        g = gz[0]
        return [GroupedConv2dGradWeights(**self._params())(g, topgrad, _spatial(kern)),
                GroupedConv2d(**self._params())(g, kern), None]


class GroupedConv2dBiasAct(Conv2dBiasAct):
    """``activation(grouped_conv2d(img, kern) + bias)``, the bias along the output channels:
    ``Conv2dBiasAct`` for a grouped (depthwise) convolution. Its gradient is the grouped
    gradient ops' after the ReLU mask (``ReluBiasGrad``) and the bias sum."""

    __props__ = Conv2dBiasAct.__props__ + ("num_groups",)
    conv_ops = (GroupedConv2d, GroupedConv2dGradInputs, GroupedConv2dGradWeights)

    def __init__(self, border_mode="valid", subsample=(1, 1), filter_flip: bool = True,
                 filter_dilation=(1, 1), activation: str = "linear", num_groups: int = 1):
        super().__init__(border_mode, subsample, filter_flip, filter_dilation, activation)
        self.num_groups = _positive(num_groups)

    def _params(self):
        return {**super()._params(), "num_groups": self.num_groups}


def grouped_conv2d_bias_act(input, filters, bias, activation: str = "linear",
                            border_mode="valid", subsample=(1, 1), filter_flip: bool = True,
                            filter_dilation=(1, 1), num_groups: int = 1) -> Variable:
    """``activation(grouped_conv2d(input, filters, ...) + bias)`` as one op (see
    ``GroupedConv2dBiasAct``); ``bias`` has one entry per output channel, ``activation`` is
    'linear' or 'relu'.

    Examples
    --------
    >>> out = grouped_conv2d_bias_act(x, w, b, 'relu', border_mode='half', num_groups=8)
    """
    return GroupedConv2dBiasAct(border_mode, subsample, filter_flip, filter_dilation,
                                activation, num_groups)(input, filters, bias)


def grouped_conv2d(input, filters, border_mode="valid", subsample=(1, 1),
                   filter_flip: bool = True, filter_dilation=(1, 1),
                   num_groups: int = 1) -> Variable:
    """2-d convolution whose channels split into ``num_groups`` independent groups.

    Parameters
    ----------
    input : 4-d tensor ``(batch, channels, rows, cols)``
    filters : 4-d tensor ``(out_channels, channels // num_groups, krows, kcols)``
    border_mode, subsample, filter_flip, filter_dilation : as ``conv2d``
    num_groups : number of groups; ``channels`` for a depthwise convolution

    Examples
    --------
    >>> x = T.ftensor4('x'); w = T.ftensor4('w')  # w: (channels * multiplier, 1, 3, 3)
    >>> out = grouped_conv2d(x, w, border_mode='half', filter_flip=False, num_groups=8)
    """
    return GroupedConv2d(border_mode, subsample, filter_flip, filter_dilation,
                         num_groups)(input, filters)
