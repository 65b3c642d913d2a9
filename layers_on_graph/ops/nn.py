"""``keras.ops.nn``: activations, softmax, one-hot, losses, convolution and pooling.

Images are channels-last, as Keras's default ``data_format``.
"""
from __future__ import annotations

import numpy as np

import core.tensor as T

from .. import activations, backend
from ..layers.conv2d import _pad_after
from ..layers.conv_utils import same_padding
from .dispatch import keras_op
from .numpy import _floatx_if_int, _t


def _activation(fn, name: str):
    def op(x, *args, **kwargs):
        return fn(_floatx_if_int(x), *args, **kwargs)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"The ``{name}`` activation, as ``keras.ops.{name}``."
    return keras_op(op)


relu = _activation(lambda x: activations.relu(x), "relu")
relu6 = _activation(activations.relu6, "relu6")
sigmoid = _activation(activations.sigmoid, "sigmoid")
softplus = _activation(activations.softplus, "softplus")
softsign = _activation(activations.softsign, "softsign")
silu = swish = _activation(activations.silu, "silu")
elu = _activation(activations.elu, "elu")
selu = _activation(activations.selu, "selu")
leaky_relu = _activation(activations.leaky_relu, "leaky_relu")
hard_sigmoid = _activation(activations.hard_sigmoid, "hard_sigmoid")
hard_silu = hard_swish = _activation(lambda x: x * activations.hard_sigmoid(x), "hard_silu")
log_sigmoid = _activation(lambda x: -T.softplus(-x), "log_sigmoid")
softmax = _activation(lambda x, axis=-1: T.nnet.softmax(x, axis=axis), "softmax")
log_softmax = _activation(lambda x, axis=-1: T.nnet.log_softmax(x, axis=axis), "log_softmax")


@keras_op
def gelu(x, approximate: bool = True):
    """Gaussian error linear unit (Keras's ``ops.gelu`` defaults to the tanh approximation)."""
    return activations.gelu(_floatx_if_int(x), approximate=approximate)


@keras_op
def one_hot(x, num_classes: int, axis: int = -1, dtype=None, sparse: bool = False):
    """One-hot encoding of integer ``x`` (classes along ``axis``, a new last axis by default)."""
    if sparse:
        raise ValueError("one_hot: sparse=True is not supported")
    x = T.cast(_t(x), "int64")
    classes = T.arange(int(num_classes))
    out = T.eq(T.dimshuffle(x, list(range(x.ndim)) + ["x"]),
               T.dimshuffle(classes, ["x"] * x.ndim + [0]))
    out = T.cast(out, str(np.dtype(dtype or backend.floatx())))
    if axis in (-1, x.ndim):
        return out
    order = list(range(x.ndim))
    order.insert(axis % (x.ndim + 1), x.ndim)
    return T.transpose(out, order)


@keras_op
def multi_hot(inputs, num_classes: int, axis: int = -1, dtype=None, sparse: bool = False):
    """Per row, 1 for each class present in ``inputs`` (the last axis lists classes)."""
    encoded = one_hot.symbolic(inputs, num_classes, dtype=dtype)
    return T.max(encoded, axis=-2)


def _probabilities_loss(target, output, from_logits: bool, axis: int, kind: str):
    output = _floatx_if_int(output)
    target = T.cast(_t(target), output.dtype) if kind != "sparse" else _t(target)
    if kind == "binary":
        if from_logits:
            return T.maximum(output, 0) - output * target + T.log1p(T.exp(-T.abs(output)))
        eps = backend.epsilon()
        output = T.clip(output, eps, 1 - eps)
        return -(target * T.log(output) + (1 - target) * T.log(1 - output))
    log_probs = T.nnet.log_softmax(output, axis=axis) if from_logits else T.log(
        T.clip(output / T.sum(output, axis=axis, keepdims=True), backend.epsilon(),
               1 - backend.epsilon()))
    if kind == "sparse":
        target = one_hot.symbolic(target, output.type.shape[axis], dtype=output.dtype)
    return -T.sum(target * log_probs, axis=axis)


@keras_op
def binary_crossentropy(target, output, from_logits: bool = False):
    """Elementwise binary crossentropy."""
    return _probabilities_loss(target, output, from_logits, -1, "binary")


@keras_op
def categorical_crossentropy(target, output, from_logits: bool = False, axis: int = -1):
    """Crossentropy of one-hot (or soft) targets along ``axis``."""
    return _probabilities_loss(target, output, from_logits, axis, "categorical")


@keras_op
def sparse_categorical_crossentropy(target, output, from_logits: bool = False, axis: int = -1):
    """Crossentropy of integer targets."""
    return _probabilities_loss(target, output, from_logits, axis, "sparse")


@keras_op
def moments(x, axes, keepdims: bool = False, synchronized: bool = False):
    """(mean, variance) over ``axes``."""
    x = _floatx_if_int(x)
    mean = T.mean(x, axis=axes, keepdims=True)
    variance = T.mean(T.sqr(x - mean), axis=axes, keepdims=keepdims)
    return (mean if keepdims else T.mean(x, axis=axes)), variance


@keras_op
def batch_normalization(x, mean, variance, axis: int, offset=None, scale=None,
                        epsilon: float = 1e-3):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset`` with 1-d statistics on
    ``axis``."""
    x = _t(x)
    axis = axis % x.ndim

    def along(v):
        v = _t(v)
        if v.ndim != 1:
            return v
        pattern = ["x"] * x.ndim
        pattern[axis] = 0
        return T.dimshuffle(v, pattern)

    out = (x - along(mean)) / T.sqrt(along(variance) + epsilon)
    if scale is not None:
        out = out * along(scale)
    if offset is not None:
        out = out + along(offset)
    return out


@keras_op
def normalize(x, axis: int = -1, order: int = 2, epsilon=None):
    """``x`` divided by its ``order``-norm along ``axis``."""
    x = _floatx_if_int(x)
    eps = backend.epsilon() if epsilon is None else epsilon
    if order == 2:
        norm = T.sqrt(T.maximum(T.sum(T.sqr(x), axis=axis, keepdims=True), eps * eps))
    else:
        norm = T.maximum(T.sum(T.abs(x) ** order, axis=axis, keepdims=True) ** (1.0 / order),
                         eps)
    return x / norm


def _spatial_args(value, n: int) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (int(value),) * n


def _as_2d(inputs):
    """(batch, rows, cols, channels); a 1-d input (batch, steps, channels) gains a rows axis."""
    x = _t(inputs)
    if x.ndim == 3:
        return T.dimshuffle(x, (0, "x", 1, 2)), True
    if x.ndim != 4:
        raise ValueError(f"ops: convolution and pooling take 3-d or 4-d channels-last inputs, "
                         f"got {x.type}")
    return x, False


@keras_op
def conv(inputs, kernel, strides=1, padding: str = "valid", data_format=None, dilation_rate=1):
    """N-d convolution (1-d and 2-d here), channels-last, kernel ``(*window, in, out)``."""
    _check_format(data_format)
    x, one_d = _as_2d(inputs)
    w = _t(kernel)
    if one_d:
        w = T.dimshuffle(w, ("x", 0, 1, 2))
    n = 1 if one_d else 2
    strides = (1,) * (2 - n) + _spatial_args(strides, n)
    dilation = (1,) * (2 - n) + _spatial_args(dilation_rate, n)
    x = T.dimshuffle(x, (0, 3, 1, 2))
    border = "valid"
    if str(padding).lower() == "same":
        sizes = x.type.shape[2:]
        window = w.type.shape[:2]
        if None in sizes or None in window:
            raise ValueError(f"conv: padding='same' needs static spatial sizes, got input "
                             f"{_t(inputs).type} and kernel {_t(kernel).type}")
        pads = [same_padding(s, k, st, d) for s, k, st, d in zip(sizes, window, strides,
                                                                  dilation)]
        x = _pad_after(x, pads[0][1] - pads[0][0], pads[1][1] - pads[1][0])
        border = (pads[0][0], pads[1][0])
    out = T.nnet.conv2d(x, T.dimshuffle(w, (3, 2, 0, 1)), border_mode=border, subsample=strides,
                        filter_flip=False, filter_dilation=dilation)
    out = T.dimshuffle(out, (0, 2, 3, 1))
    return out[:, 0] if one_d else out


def _pool(inputs, pool_size, strides, padding: str, mode: str):
    x, one_d = _as_2d(inputs)
    n = 1 if one_d else 2
    window = (1,) * (2 - n) + _spatial_args(pool_size, n)
    stride = (1,) * (2 - n) + _spatial_args(strides if strides is not None else pool_size, n)
    padding = str(padding).lower()
    if padding == "same":
        for s, k, st in zip(x.type.shape[1:3], window, stride):
            if s is None or same_padding(s, k, st)[0]:
                raise ValueError(f"pool: padding='same' is supported only when it pads after "
                                 f"the input (pool_size {window[2 - n:]}, strides "
                                 f"{stride[2 - n:]}, input {_t(inputs).type})")
    out = T.signal.pool_2d(T.dimshuffle(x, (0, 3, 1, 2)), ws=window, stride=stride,
                           ignore_border=padding == "valid", mode=mode)
    out = T.dimshuffle(out, (0, 2, 3, 1))
    return out[:, 0] if one_d else out


@keras_op
def max_pool(inputs, pool_size, strides=None, padding: str = "valid", data_format=None):
    """Max pooling (1-d or 2-d), channels-last."""
    _check_format(data_format)
    return _pool(inputs, pool_size, strides, padding, "max")


@keras_op
def average_pool(inputs, pool_size, strides=None, padding: str = "valid", data_format=None):
    """Average pooling (1-d or 2-d), channels-last; 'same' padding averages real values only."""
    _check_format(data_format)
    return _pool(inputs, pool_size, strides, padding, "average_exc_pad")


def _check_format(data_format) -> None:
    if data_format not in (None, "channels_last"):
        raise ValueError(f"ops: only data_format='channels_last' is supported, got "
                         f"{data_format!r}")
