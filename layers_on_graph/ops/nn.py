"""``keras.ops.nn``: activations, softmax, one-hot, losses, convolution and pooling.

Images are channels-last, as Keras's default ``data_format``.
"""
from __future__ import annotations

import numpy as np

import core.tensor as T

from .. import activations, backend
from ..layers.conv_ops import pad_after as _pad_after
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
    return _conv(inputs, kernel, strides, padding, data_format, dilation_rate)


@keras_op
def depthwise_conv(inputs, kernel, strides=1, padding: str = "valid", data_format=None,
                   dilation_rate=1):
    """Each input channel convolved with its own ``multiplier`` filters; kernel
    ``(*window, in, multiplier)``, outputs channel-major as Keras (one convolution per
    channel: the core has no grouped convolution)."""
    x, w = _t(inputs), _t(kernel)
    channels = w.type.shape[-2]
    if channels is None:
        raise ValueError(f"depthwise_conv: the kernel {w.type} needs a static channel count")
    lead = (slice(None),) * (x.ndim - 1)
    wlead = (slice(None),) * (w.ndim - 2)
    outs = [_conv(x[lead + (slice(c, c + 1),)], w[wlead + (slice(c, c + 1),)], strides, padding,
                  data_format, dilation_rate) for c in range(channels)]
    return T.concatenate(outs, axis=-1)


@keras_op
def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1,
                   padding: str = "valid", data_format=None, dilation_rate=1):
    """A depthwise convolution followed by a 1x1 (pointwise) convolution."""
    out = depthwise_conv.symbolic(inputs, depthwise_kernel, strides, padding, data_format,
                                  dilation_rate)
    return _conv(out, pointwise_kernel, 1, "valid", data_format, 1)


def _conv(inputs, kernel, strides, padding, data_format, dilation_rate):
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


celu = _activation(lambda x, alpha=1.0: T.maximum(x, 0.0) + alpha * T.minimum(
    0.0, T.expm1(x / alpha)), "celu")
hard_tanh = _activation(lambda x: T.clip(x, -1.0, 1.0), "hard_tanh")
hard_shrink = _activation(lambda x, threshold=0.5: T.switch(T.gt(T.abs(x), threshold), x,
                                                            0.0 * x), "hard_shrink")
soft_shrink = _activation(lambda x, threshold=0.5: T.switch(
    T.gt(x, threshold), x - threshold, T.switch(T.lt(x, -threshold), x + threshold, 0.0 * x)),
    "soft_shrink")
tanh_shrink = _activation(lambda x: x - T.tanh(x), "tanh_shrink")
squareplus = _activation(lambda x, b=4: (x + T.sqrt(T.sqr(x) + b)) / 2.0, "squareplus")
sparse_plus = _activation(lambda x: T.switch(T.le(x, -1.0), 0.0 * x, T.switch(
    T.ge(x, 1.0), x, T.sqr(x + 1.0) / 4.0)), "sparse_plus")
threshold = _activation(lambda x, threshold, default_value: T.switch(
    T.gt(x, threshold), x, default_value + 0.0 * x), "threshold")


@keras_op
def glu(x, axis: int = -1):
    """Gated linear unit: the first half of ``axis`` times the sigmoid of the second."""
    x = _floatx_if_int(x)
    n = x.type.shape[axis]
    if n is None or n % 2:
        raise ValueError(f"glu: axis {axis} of {x.type} must have an even static size")
    index_a = [slice(None)] * x.ndim
    index_b = [slice(None)] * x.ndim
    index_a[axis], index_b[axis] = slice(0, n // 2), slice(n // 2, n)
    return x[tuple(index_a)] * T.nnet.sigmoid(x[tuple(index_b)])


@keras_op
def layer_normalization(x, gamma=None, beta=None, axis: int = -1, epsilon=None, **kwargs):
    """Normalized over ``axis`` to zero mean and unit variance, then scaled and shifted."""
    x = _floatx_if_int(x)
    eps = backend.epsilon() if epsilon is None else epsilon
    mean = T.mean(x, axis=axis, keepdims=True)
    variance = T.mean(T.sqr(x - mean), axis=axis, keepdims=True)
    out = (x - mean) / T.sqrt(variance + eps)
    if gamma is not None:
        out = out * gamma
    return out + beta if beta is not None else out


@keras_op
def rms_normalization(x, scale=None, axis: int = -1, epsilon=None):
    """``x / sqrt(mean(x²) + epsilon) * scale`` over ``axis``."""
    x = _floatx_if_int(x)
    eps = backend.epsilon() if epsilon is None else epsilon
    out = x / T.sqrt(T.mean(T.sqr(x), axis=axis, keepdims=True) + eps)
    return out * scale if scale is not None else out


@keras_op
def dot_product_attention(query, key, value, bias=None, mask=None, scale=None,
                          is_causal: bool = False, flash_attention=None,
                          attn_logits_soft_cap=None):
    """Scaled dot-product attention on (batch, steps, heads, dim) tensors, as Keras."""
    from .numpy_products import matmul

    q, k, v = _t(query), _t(key), _t(value)
    dim = q.type.shape[-1]
    if scale is None:
        scale = 1.0 / np.sqrt(dim) if dim is not None else T.cast(
            1.0 / T.sqrt(T.cast(T.shape(q)[-1], "float64")), q.dtype)
    qh, kh, vh = (T.transpose(t, (0, 2, 1, 3)) for t in (q, k, v))  # (batch, heads, steps, dim)
    logits = matmul.symbolic(qh, T.transpose(kh, (0, 1, 3, 2))) * scale
    if attn_logits_soft_cap is not None:
        logits = attn_logits_soft_cap * T.tanh(logits / attn_logits_soft_cap)
    if bias is not None:
        logits = logits + bias
    keep = None
    if mask is not None:
        keep = T.cast(_t(mask), "bool")
    if is_causal:
        rows = T.dimshuffle(T.arange(T.shape(logits)[2]), (0, "x"))
        cols = T.dimshuffle(T.arange(T.shape(logits)[3]), ("x", 0))
        causal = T.dimshuffle(T.ge(rows, cols), ("x", "x", 0, 1))
        keep = causal if keep is None else T.and_(keep, causal)
    if keep is not None:
        logits = T.switch(keep, logits, np.finfo(np.float32).min)
    weights = T.nnet.softmax(logits, axis=-1)
    return T.transpose(matmul.symbolic(weights, vh), (0, 2, 1, 3))


@keras_op
def psnr(x1, x2, max_val: float):
    """Peak signal-to-noise ratio of two images (over all elements)."""
    mse = T.mean(T.sqr(_floatx_if_int(x1) - _floatx_if_int(x2)))
    return 20.0 * np.log10(max_val) - 10.0 * T.log10(mse)


sparse_sigmoid = _activation(lambda x: T.clip(0.5 * (x + 1.0), 0.0, 1.0), "sparse_sigmoid")


@keras_op
def depth_to_space(x, block_size: int, data_format=None):
    """Channels moved into ``block_size`` x ``block_size`` spatial blocks (channels-last)."""
    _check_format(data_format)
    x = _t(x)
    b, (h, w, c) = T.shape(x)[0], x.type.shape[1:]
    bs = int(block_size)
    if None in (h, w, c) or c % (bs * bs):
        raise ValueError(f"depth_to_space: {x.type} needs static sizes and channels divisible "
                         f"by {bs * bs}")
    out = T.reshape(x, (b, h, w, bs, bs, c // (bs * bs)))
    out = T.transpose(out, (0, 1, 3, 2, 4, 5))
    return T.reshape(out, (b, h * bs, w * bs, c // (bs * bs)))


@keras_op
def space_to_depth(x, block_size: int, data_format=None):
    """``block_size`` x ``block_size`` spatial blocks moved into channels (channels-last)."""
    _check_format(data_format)
    x = _t(x)
    b, (h, w, c) = T.shape(x)[0], x.type.shape[1:]
    bs = int(block_size)
    if None in (h, w, c) or h % bs or w % bs:
        raise ValueError(f"space_to_depth: {x.type} needs static sizes divisible by {bs}")
    out = T.reshape(x, (b, h // bs, bs, w // bs, bs, c))
    out = T.transpose(out, (0, 1, 3, 2, 4, 5))
    return T.reshape(out, (b, h // bs, w // bs, bs * bs * c))
