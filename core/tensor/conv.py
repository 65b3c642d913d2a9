"""2-d convolution in Theano's layout and semantics, with its two gradient ops.

Input ``(batch, channels, rows, cols)``, filters ``(out_channels, channels, krows, kcols)``.
``filter_flip=True`` (the default) is a true convolution (the kernel is flipped);
``False`` is a cross-correlation. The gradients with respect to the input and to the
filters are ops of their own (``Conv2dGradInputs``, ``Conv2dGradWeights``) so that
rewrites and other backends can target them.
"""
from __future__ import annotations

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.trace import format_trace, user_frame
from .type import TensorType
from .variable import as_tensor_variable


def _pair(value, name: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        value = (value, value)
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f"conv2d: {name} must be an int or a pair of ints, got {value!r}")
    return value


def normalize_border_mode(border_mode) -> str | tuple[int, int]:
    """``'valid' | 'full' | 'half'`` or a pair of non-negative paddings."""
    if isinstance(border_mode, str):
        if border_mode not in ("valid", "full", "half"):
            raise ValueError(f"conv2d: border_mode must be 'valid', 'full', 'half', an int or a pair "
                             f"(ph, pw), got {border_mode!r}")
        return border_mode
    pads = _pair(border_mode, "border_mode")
    if min(pads) < 0:
        raise ValueError(f"conv2d: paddings must be non-negative, got {pads}")
    return pads


def conv_padding(border_mode, kshape: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int]:
    """The zero padding of each spatial side for a kernel of ``kshape``."""
    dil = [(k - 1) * d + 1 for k, d in zip(kshape, dilation)]
    if border_mode == "valid":
        return (0, 0)
    if border_mode == "full":
        return (dil[0] - 1, dil[1] - 1)
    if border_mode == "half":
        return (dil[0] // 2, dil[1] // 2)
    return tuple(border_mode)


def conv_output_size(size: int | None, k: int | None, border_mode, axis: int, stride: int,
                     dilation: int) -> int | None:
    """Output length along spatial ``axis`` (0: rows, 1: cols); None when not static."""
    if size is None or k is None:
        return None
    pads = conv_padding(border_mode, (k, k), (dilation, dilation))
    return (size + 2 * pads[axis] - ((k - 1) * dilation + 1)) // stride + 1


class _ConvBase(Op):
    __props__ = ("border_mode", "subsample", "filter_flip", "filter_dilation")
    compute_bound = True

    def __init__(self, border_mode="valid", subsample=(1, 1), filter_flip: bool = True,
                 filter_dilation=(1, 1)):
        self.border_mode = normalize_border_mode(border_mode)
        self.subsample = _pair(subsample, "subsample")
        self.filter_flip = bool(filter_flip)
        self.filter_dilation = _pair(filter_dilation, "filter_dilation")
        if min(self.subsample) < 1 or min(self.filter_dilation) < 1:
            raise ValueError(f"conv2d: subsample {self.subsample} and filter_dilation "
                             f"{self.filter_dilation} must be positive")

    def _params(self):
        return dict(border_mode=self.border_mode, subsample=self.subsample,
                    filter_flip=self.filter_flip, filter_dilation=self.filter_dilation)

    def _float_pair(self, a, b, name: str):
        from .math import cast

        a, b = as_tensor_variable(a), as_tensor_variable(b)
        if a.ndim != 4 or b.ndim != 4:
            raise TypeError(f"{name}: expected 4-d tensors, got {a.type} and {b.type}, at "
                            f"{format_trace(user_frame())}")
        dtype = str(np.result_type(np.dtype(a.dtype), np.dtype(b.dtype)))
        if np.dtype(dtype).kind != "f":
            raise TypeError(f"{name}: expected float tensors, got {a.dtype} and {b.dtype}")
        return cast(a, dtype), cast(b, dtype), dtype

    def _out_hw(self, hw, khw) -> tuple:
        return tuple(conv_output_size(hw[i], khw[i], self.border_mode, i, self.subsample[i],
                                      self.filter_dilation[i]) for i in range(2))


def _check_channels(c_in, c_kern, name: str):
    if c_in is not None and c_kern is not None and c_in != c_kern:
        raise ValueError(f"{name}: the input has {c_in} channels but the filters expect {c_kern}, "
                         f"at {format_trace(user_frame())}")


def _shape_vector(shape, name: str) -> Variable:
    from .shape_ops import as_shape_vector

    v = as_shape_vector(shape)
    if v.ndim != 1 or v.type.shape[0] not in (None, 2):
        raise ValueError(f"{name}: expected a spatial shape of two entries, got {v.type}")
    return v


def _spatial(x: Variable) -> Variable:
    """The last two axis sizes of ``x`` as a vector (constant entries where static)."""
    from .shape_ops import shape_i, stack_scalars

    return stack_scalars([shape_i(x, 2), shape_i(x, 3)], "int64")


def _static(v: Variable) -> list:
    from .shape_ops import _static_values

    return _static_values(v) or [None, None]


class Conv2d(_ConvBase):
    """``conv2d(input, filters)``: im2col and one matrix product per batch entry."""

    def make_node(self, img, kern) -> Apply:
        img, kern, dtype = self._float_pair(img, kern, "conv2d")
        _check_channels(img.type.shape[1], kern.type.shape[1], "conv2d")
        ho, wo = self._out_hw(img.type.shape[2:], kern.type.shape[2:])
        for o in (ho, wo):
            if o is not None and o < 1:
                raise ValueError(f"conv2d: input {img.type.shape} is smaller than the (dilated) "
                                 f"filters {kern.type.shape} with border_mode={self.border_mode!r}, "
                                 f"at {format_trace(user_frame())}")
        shape = (img.type.shape[0], kern.type.shape[0], ho, wo)
        return Apply(self, [img, kern], [TensorType(dtype, shape)()])

    def grad(self, inputs, gz):
        img, kern = inputs
        g = gz[0]
        g_img = Conv2dGradInputs(**self._params())(kern, g, _spatial(img))
        g_kern = Conv2dGradWeights(**self._params())(img, g, _spatial(kern))
        return [g_img, g_kern]


class Conv2dGradWeights(_ConvBase):
    """Gradient of ``conv2d`` with respect to the filters: ``(img, topgrad, (kh, kw))``."""

    def make_node(self, img, topgrad, kshape) -> Apply:
        img, topgrad, dtype = self._float_pair(img, topgrad, "conv2d (filter gradient)")
        kshape = _shape_vector(kshape, "Conv2dGradWeights")
        shape = (topgrad.type.shape[1], img.type.shape[1], *_static(kshape))
        return Apply(self, [img, topgrad, kshape], [TensorType(dtype, shape)()])

    def grad(self, inputs, gz):
        img, topgrad, _ = inputs
        g = gz[0]
        g_img = Conv2dGradInputs(**self._params())(g, topgrad, _spatial(img))
        g_top = Conv2d(**self._params())(img, g)
        return [g_img, g_top, None]


class Conv2dGradInputs(_ConvBase):
    """Gradient of ``conv2d`` with respect to its input: ``(kern, topgrad, (h, w))``."""

    def make_node(self, kern, topgrad, ishape) -> Apply:
        kern, topgrad, dtype = self._float_pair(kern, topgrad, "conv2d (input gradient)")
        ishape = _shape_vector(ishape, "Conv2dGradInputs")
        shape = (topgrad.type.shape[0], kern.type.shape[1], *_static(ishape))
        return Apply(self, [kern, topgrad, ishape], [TensorType(dtype, shape)()])

    def grad(self, inputs, gz):
        kern, topgrad, _ = inputs
        g = gz[0]
        g_kern = Conv2dGradWeights(**self._params())(g, topgrad, _spatial(kern))
        g_top = Conv2d(**self._params())(g, kern)
        return [g_kern, g_top, None]


class Conv2dBiasAct(_ConvBase):
    """``activation(conv2d(img, kern) + bias)``, the bias along the output channels.

    One op so that a backend adds the bias and applies the activation to the product's
    tile while it is in registers, instead of two more passes over the output.
    ``activation``: 'linear' or 'relu' (``maximum(x, 0)``: NaN stays NaN). Its gradient is
    the plain ops': the ReLU mask, ``Conv2dGradInputs``, ``Conv2dGradWeights`` and a sum.
    """

    __props__ = _ConvBase.__props__ + ("activation",)
    ACTIVATIONS = ("linear", "relu")
    # the convolution and its two gradient ops (the grouped variant swaps them)
    conv_ops = (Conv2d, Conv2dGradInputs, Conv2dGradWeights)

    def __init__(self, border_mode="valid", subsample=(1, 1), filter_flip: bool = True,
                 filter_dilation=(1, 1), activation: str = "linear"):
        super().__init__(border_mode, subsample, filter_flip, filter_dilation)
        if activation not in self.ACTIVATIONS:
            raise ValueError(f"conv2d: activation must be one of {self.ACTIVATIONS}, got "
                             f"{activation!r}")
        self.activation = activation

    def make_node(self, img, kern, bias) -> Apply:
        from .math import cast

        conv = self.conv_ops[0](**self._params()).make_node(img, kern)
        img, kern = conv.inputs
        bias = cast(as_tensor_variable(bias), conv.outputs[0].dtype)
        f = kern.type.shape[0]
        if bias.ndim != 1 or (None not in (f, bias.type.shape[0]) and bias.type.shape[0] != f):
            raise ValueError(f"conv2d: the bias must be a vector of the {f} output channels, got "
                             f"{bias.type}, at {format_trace(user_frame())}")
        return Apply(self, [img, kern, bias], [conv.outputs[0].type()])

    def L_op(self, inputs, outputs, gz):
        from .shape_ops import shape_i

        img, kern, _ = inputs
        # the mask and the bias gradient on the (N, H, W, F) order: the backends' kernels
        # give channels-last memory, which this order reads contiguously
        g = gz[0].dimshuffle(0, 2, 3, 1)
        if self.activation == "relu":  # maximum(x, 0)'s gradient and its sum, in one pass
            g, g_bias = ReluBiasGrad()(outputs[0].dimshuffle(0, 2, 3, 1), g)
        else:
            g_bias = g.reshape([-1, shape_i(kern, 0)]).sum(axis=0)
        g = g.dimshuffle(0, 3, 1, 2)
        g_img = self.conv_ops[1](**self._params())(kern, g, _spatial(img))
        g_kern = self.conv_ops[2](**self._params())(img, g, _spatial(kern))
        return [g_img, g_kern, g_bias]


class ReluBiasGrad(Op):
    """``(g * (out > 0), sum of that over every axis but the last)``: the gradient through
    a ReLU whose output is ``out`` and the gradient of the bias added before it (on the
    last axis), in one pass over ``g`` instead of a mask pass and a sum pass.

    ``inplace=True`` (set by the inplace pass where nothing else reads ``g``'s buffer): the
    masked gradient is written into ``g``'s buffer, one memory stream less.
    """

    __props__ = ("inplace",)

    def __init__(self, inplace: bool = False):
        self.inplace = bool(inplace)
        self.destroy_map = {0: [1]} if self.inplace else {}

    def __str__(self) -> str:
        return "ReluBiasGrad{inplace}" if self.inplace else "ReluBiasGrad"

    def make_node(self, out, g) -> Apply:
        out, g = as_tensor_variable(out), as_tensor_variable(g)
        if out.ndim != g.ndim or out.ndim < 1 or g.dtype != out.dtype or g.type.dtype[0] != "f":
            raise TypeError(f"ReluBiasGrad: expected float tensors of one rank and dtype, got "
                            f"{out.type} and {g.type}, at {format_trace(user_frame())}")
        return Apply(self, [out, g], [g.type(), TensorType(g.dtype, g.type.shape[-1:])()])

    def L_op(self, inputs, outputs, gz):
        from .math import gt, zeros_like

        out, _ = inputs
        g_pre, g_bias = gz  # (the gradient fills in zeros for an unused output)
        spread = g_bias.dimshuffle(*(["x"] * (out.ndim - 1)), 0)
        return [zeros_like(out), (g_pre + spread) * gt(out, 0)]


def conv2d_bias_act(input, filters, bias, activation: str = "linear", border_mode="valid",
                    subsample=(1, 1), filter_flip: bool = True,
                    filter_dilation=(1, 1)) -> Variable:
    """``activation(conv2d(input, filters, ...) + bias)`` as one op (see ``Conv2dBiasAct``);
    ``bias`` has one entry per output channel, ``activation`` is 'linear' or 'relu'."""
    return Conv2dBiasAct(border_mode, subsample, filter_flip, filter_dilation,
                         activation)(input, filters, bias)


def conv2d(input, filters, input_shape=None, filter_shape=None, border_mode="valid",
           subsample=(1, 1), filter_flip: bool = True, image_shape=None,
           filter_dilation=(1, 1), num_groups: int = 1) -> Variable:
    """2-d convolution of a batch of images with a bank of filters (Theano's ``conv2d``).

    Parameters
    ----------
    input : 4-d tensor ``(batch, channels, rows, cols)``
    filters : 4-d tensor ``(out_channels, channels, krows, kcols)``
    input_shape, filter_shape : optional static shape hints, checked against the types
    border_mode : 'valid' | 'full' | 'half' | int | (ph, pw) zero padding
    subsample : stride ``(sh, sw)``
    filter_flip : True for a true convolution, False for cross-correlation
    filter_dilation : dilation ``(dh, dw)`` of the filters

    Examples
    --------
    >>> out = T.nnet.conv2d(x, w, border_mode='half', subsample=(2, 2))
    """
    if num_groups != 1:
        raise ValueError(f"conv2d: num_groups={num_groups} is not supported (only 1)")
    input, filters = as_tensor_variable(input), as_tensor_variable(filters)
    for hint, var, what in ((input_shape or image_shape, input, "input_shape"),
                            (filter_shape, filters, "filter_shape")):
        if hint is None:
            continue
        hint = tuple(hint)
        if len(hint) != var.ndim or any(h is not None and s is not None and int(h) != s
                                        for h, s in zip(hint, var.type.shape)):
            raise ValueError(f"conv2d: {what}={hint} does not match {var.type}, at "
                             f"{format_trace(user_frame())}")
    return Conv2d(border_mode, subsample, filter_flip, filter_dilation)(input, filters)
