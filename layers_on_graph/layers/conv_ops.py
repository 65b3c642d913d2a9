"""Channels-last convolution on the core's channels-first ops, shared by the conv layers.

Keras pads 'same' as TF does (an odd total puts the extra zero row/column at the
bottom/right) and 'causal' (1-d) entirely before the steps.
"""
from __future__ import annotations

import core.tensor as T
from core.tensor.conv import Conv2dBiasAct, conv2d_bias_act
from core.tensor.grouped_conv import grouped_conv2d, grouped_conv2d_bias_act

from .conv_utils import same_padding
from .layer import static_shape


def conv_nhwc(inputs, filters, kernel_hw, strides, dilation, padding: str, built_rows_cols,
              owner: str, groups: int = 1, bias=None, activation: str = "linear"):
    """``inputs`` (b, rows, cols, c) cross-correlated with ``filters`` (out, c // groups, kh,
    kw), as Keras: ``padding`` 'valid', 'same' or 'causal' (rows padded before). With
    ``bias``, ``activation(conv + bias)`` as one op (``activation`` 'linear' or 'relu'),
    which a backend applies while the product is in registers."""
    x = inputs.dimshuffle(0, 3, 1, 2)
    border = "valid"
    if padding == "same":
        rows_cols = [n if n is not None else b for n, b in zip(static_shape(inputs)[1:3],
                                                               built_rows_cols)]
        if None in rows_cols:
            raise ValueError(f"{owner}: padding='same' needs static spatial sizes, got "
                             f"input shape {static_shape(inputs)}")
        pads = [same_padding(n, k, s, d) for n, k, s, d in zip(
            rows_cols, kernel_hw, strides, dilation)]
        x = pad_after(x, pads[0][1] - pads[0][0], pads[1][1] - pads[1][0])
        border = (pads[0][0], pads[1][0])
    elif padding == "causal":
        x = pad_before_rows(x, (kernel_hw[0] - 1) * dilation[0])
    params = dict(border_mode=border, subsample=tuple(strides), filter_flip=False,
                  filter_dilation=tuple(dilation))
    if bias is not None and groups == 1:
        out = conv2d_bias_act(x, filters, bias, activation, **params)
    elif bias is not None:
        out = grouped_conv2d_bias_act(x, filters, bias, activation, num_groups=groups, **params)
    elif groups == 1:
        out = T.nnet.conv2d(x, filters, **params)
    else:
        out = grouped_conv2d(x, filters, num_groups=groups, **params)
    return out.dimshuffle(0, 2, 3, 1)


def fused_activation(activation, bias) -> str | None:
    """The ``Conv2dBiasAct`` (or grouped) activation name that computes ``activation`` (a
    function from ``activations``), or None where the layer keeps separate ops."""
    from .. import activations

    if bias is None:
        return None
    names = {activations.linear: "linear", activations.relu: "relu"}
    name = names.get(activation)
    return name if name in Conv2dBiasAct.ACTIVATIONS else None


def conv_bias_activation(conv, bias, activation, channels: int):
    """``activation(conv() + bias)`` with bias and ReLU/linear inside the convolution op where
    it takes them (``conv(bias=..., activation=name)``: one pass, not three), else
    ``add_bias`` after it; ``channels``: the output channels."""
    fused = fused_activation(activation, bias)
    if fused:
        return conv(bias=bias, activation=fused)
    return add_bias(conv(), bias, channels, activation)


def add_bias(out, bias, channels: int, activation=None):
    """``activation(out + bias)`` on the channels-last axis, computed on a (pixels, channels)
    matrix: the C backend's row-broadcast loop runs there (4-d broadcasting takes a slower
    strided path), and the activation (elementwise or over the channels, as every Keras
    activation is) fuses with the addition into one pass."""
    if bias is None:
        return out if activation is None else activation(out)
    rows = out.reshape((-1, channels)) + bias
    return T.reshape(rows if activation is None else activation(rows), out.shape, ndim=out.ndim)


def pad_after(x, extra_rows: int, extra_cols: int):
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


def pad_before_rows(x, rows: int):
    """Prepend zero rows at the top of (batch, channels, rows, cols)."""
    if not rows:
        return x
    zeros = T.zeros([T.shape_i(x, 0), T.shape_i(x, 1), rows, T.shape_i(x, 3)], dtype=x.dtype)
    return T.concatenate([zeros, x], axis=2)
