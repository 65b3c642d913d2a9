"""Conv2D and pooling layers (channels_last) against loop references."""
import math

import numpy as np
import pytest

from layers_on_graph import layers

from layer_test_helper import run_layer_test

rng = np.random.default_rng(0)


def _tf_pads(size, k, s, padding, d=1):
    if padding == "valid":
        return 0, 0
    eff = (k - 1) * d + 1
    out = math.ceil(size / s)
    total = max((out - 1) * s + eff - size, 0)
    return total // 2, total - total // 2


def conv_reference(x, kernel, bias, strides, padding, dilation=(1, 1)):
    """Keras's Conv2D (cross-correlation, channels_last, TF padding) with loops."""
    kh, kw, _, cout = kernel.shape
    (pt, pb), (pl, pr) = (_tf_pads(x.shape[1], kh, strides[0], padding, dilation[0]),
                          _tf_pads(x.shape[2], kw, strides[1], padding, dilation[1]))
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    eh, ew = (kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1
    rows = (xp.shape[1] - eh) // strides[0] + 1
    cols = (xp.shape[2] - ew) // strides[1] + 1
    out = np.zeros((x.shape[0], rows, cols, cout))
    for i in range(rows):
        for j in range(cols):
            r, c = i * strides[0], j * strides[1]
            patch = xp[:, r:r + eh:dilation[0], c:c + ew:dilation[1], :]
            out[:, i, j, :] = np.tensordot(patch, kernel, axes=([1, 2, 3], [0, 1, 2]))
    return out + bias


@pytest.mark.parametrize("kernel_size,strides,padding,size", [
    ((3, 3), (1, 1), "valid", 6), ((3, 3), (1, 1), "same", 6), ((2, 2), (1, 1), "same", 5),
    ((3, 2), (2, 2), "same", 7), ((3, 3), (2, 1), "valid", 7)])
def test_conv2d_values(kernel_size, strides, padding, size):
    x = rng.normal(size=(2, size, size, 3)).astype("float32")

    def ref(layer, x):
        return conv_reference(x, layer.kernel.get_value(), layer.bias.get_value(), strides,
                              padding)

    out_rows = math.ceil(size / strides[0]) if padding == "same" else \
        (size - kernel_size[0]) // strides[0] + 1
    out_cols = math.ceil(size / strides[1]) if padding == "same" else \
        (size - kernel_size[1]) // strides[1] + 1
    layer, _ = run_layer_test(layers.Conv2D, {"filters": 4, "kernel_size": kernel_size,
                                              "strides": strides, "padding": padding,
                                              "bias_initializer": "random_normal"},
                              x, (2, out_rows, out_cols, 4), ref, expected_num_weights=2,
                              atol=1e-4, rtol=1e-4, check_grad=size <= 6,
                              check_training=size == 6)
    assert layer.kernel.get_value().shape == kernel_size + (3, 4)


def test_conv2d_dilation():
    x = rng.normal(size=(1, 7, 7, 2)).astype("float32")
    layer = layers.Conv2D(3, 3, dilation_rate=2)
    out = layer(x)
    np.testing.assert_allclose(out, conv_reference(x, layer.kernel.get_value(),
                                                   layer.bias.get_value(), (1, 1), "valid",
                                                   (2, 2)), atol=1e-4)


def test_conv2d_errors():
    with pytest.raises(ValueError, match="rank 4"):
        layers.Conv2D(2, 3)(layers.Input(shape=(5, 5)))
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(2, 3, padding="full")
    with pytest.raises(ValueError, match="larger than the input"):
        layers.Conv2D(2, 7)(layers.Input(shape=(5, 5, 1)))
    with pytest.raises(ValueError, match="channels_last"):
        layers.Conv2D(2, 3, data_format="channels_first")


def pool_reference(x, pool, strides, padding, fn):
    rows = [(i * strides[0], min(i * strides[0] + pool[0], x.shape[1]))
            for i in range(math.ceil(x.shape[1] / strides[0]) if padding == "same" else
                           (x.shape[1] - pool[0]) // strides[0] + 1)]
    cols = [(j * strides[1], min(j * strides[1] + pool[1], x.shape[2]))
            for j in range(math.ceil(x.shape[2] / strides[1]) if padding == "same" else
                           (x.shape[2] - pool[1]) // strides[1] + 1)]
    out = np.zeros((x.shape[0], len(rows), len(cols), x.shape[3]))
    for i, (r0, r1) in enumerate(rows):
        for j, (c0, c1) in enumerate(cols):
            out[:, i, j] = fn(x[:, r0:r1, c0:c1], axis=(1, 2))
    return out


@pytest.mark.parametrize("cls,fn", [(layers.MaxPooling2D, np.max),
                                    (layers.AveragePooling2D, np.mean)])
@pytest.mark.parametrize("pool,strides,padding,size", [
    ((2, 2), None, "valid", 6), ((3, 3), (1, 1), "valid", 5), ((2, 2), None, "same", 5),
    ((3, 3), (2, 2), "valid", 7)])
def test_pooling_values(cls, fn, pool, strides, padding, size):
    x = rng.normal(size=(2, size, size, 3)).astype("float32")
    st = strides or pool

    def ref(layer, x):
        return pool_reference(x, pool, st, padding, fn)

    expected = ref(None, x).shape
    run_layer_test(cls, {"pool_size": pool, "strides": strides, "padding": padding}, x,
                   expected, ref, expected_num_weights=0, check_training=False,
                   check_grad=size == 6)


@pytest.mark.parametrize("cls,fn", [(layers.GlobalAveragePooling2D, np.mean),
                                    (layers.GlobalMaxPooling2D, np.max)])
def test_global_pooling(cls, fn):
    x = rng.normal(size=(2, 3, 4, 5)).astype("float32")
    run_layer_test(cls, {}, x, (2, 5), lambda l, x: fn(x, axis=(1, 2)), check_training=False)
    run_layer_test(cls, {"keepdims": True}, x, (2, 1, 1, 5),
                   lambda l, x: fn(x, axis=(1, 2), keepdims=True), check_training=False,
                   check_grad=False)
