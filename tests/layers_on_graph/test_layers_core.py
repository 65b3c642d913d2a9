"""Dense, Activation, Flatten, Reshape, Permute, Lambda, Dropout: shapes, values, gradients."""
import numpy as np
import pytest

import core.tensor as T
from core import function
from layers_on_graph import Sequential, activations, layers, utils

from layer_test_helper import run_layer_test

rng = np.random.default_rng(0)


def test_dense_values_and_weight_order():
    x = rng.normal(size=(4, 5)).astype("float32")

    def ref(layer, x):
        return np.maximum(x @ layer.kernel.get_value() + layer.bias.get_value(), 0)

    layer, _ = run_layer_test(layers.Dense, {"units": 3, "activation": "relu",
                                             "bias_initializer": "ones"}, x, (4, 3), ref,
                              expected_num_weights=2, expected_num_trainable=2)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (5, 3) and bias.shape == (3,) and kernel.dtype == np.float32


def test_dense_on_rank3_inputs():
    x = rng.normal(size=(2, 3, 4)).astype("float32")
    run_layer_test(layers.Dense, {"units": 6}, x, (2, 3, 6),
                   lambda l, x: x @ l.kernel.get_value() + l.bias.get_value())


def test_dense_without_bias_and_glorot_range():
    layer = layers.Dense(50, use_bias=False)
    layer(np.zeros((1, 30), "float32"))
    assert len(layer.weights) == 1
    limit = np.sqrt(6 / (30 + 50))
    w = layer.kernel.get_value()
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.8 * limit


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus",
                                  "gelu", "silu", "leaky_relu", "linear"])
def test_activation_layer(name):
    x = rng.normal(size=(3, 4)).astype("float32")
    refs = {"relu": lambda v: np.maximum(v, 0), "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
            "tanh": np.tanh, "linear": lambda v: v,
            "softmax": lambda v: np.exp(v) / np.exp(v).sum(-1, keepdims=True),
            "elu": lambda v: np.where(v > 0, v, np.expm1(v)),
            "selu": lambda v: 1.0507009873554805 * np.where(v > 0, v, 1.6732632423543772 *
                                                             np.expm1(v)),
            "softplus": lambda v: np.log1p(np.exp(v)),
            "gelu": lambda v: 0.5 * v * (1 + np.vectorize(__import__("math").erf)(v / np.sqrt(2))),
            "silu": lambda v: v / (1 + np.exp(-v)),
            "leaky_relu": lambda v: np.where(v > 0, v, 0.2 * v)}
    run_layer_test(layers.Activation, {"activation": name}, x, (3, 4),
                   lambda l, x: refs[name](x.astype("float64")), atol=1e-5,
                   check_grad=name not in ("relu", "leaky_relu"), check_training=False)


def test_unknown_activation():
    with pytest.raises(ValueError, match="unknown activation"):
        layers.Dense(3, activation="relux")
    assert activations.get(None) is activations.linear


def test_flatten_reshape_permute():
    x = rng.normal(size=(2, 3, 4, 5)).astype("float32")
    run_layer_test(layers.Flatten, {}, x, (2, 60), lambda l, x: x.reshape(2, -1))
    run_layer_test(layers.Reshape, {"target_shape": (12, 5)}, x, (2, 12, 5),
                   lambda l, x: x.reshape(2, 12, 5))
    run_layer_test(layers.Reshape, {"target_shape": (-1, 10)}, x, (2, 6, 10),
                   lambda l, x: x.reshape(2, 6, 10))
    run_layer_test(layers.Permute, {"dims": (3, 1, 2)}, x, (2, 5, 3, 4),
                   lambda l, x: x.transpose(0, 3, 1, 2))
    with pytest.raises(ValueError, match="cannot reshape"):
        layers.Reshape((7, 7))(layers.Input(shape=(3, 4, 5)))
    with pytest.raises(ValueError, match="permutation"):
        layers.Permute((1, 1))


def test_flatten_keeps_static_feature_count():
    out = layers.Flatten()(layers.Input(shape=(4, 4, 2)))
    assert out.type.shape == (None, 32)


def test_lambda():
    x = rng.normal(size=(3, 4)).astype("float32")
    run_layer_test(layers.Lambda, {"function": lambda t: T.sqr(t) * 2.0}, x, (3, 4),
                   lambda l, x: 2 * x ** 2, check_training=False)
    layer = layers.Lambda(lambda t, k: t * k, arguments={"k": 3.0}, output_shape=(4,))
    np.testing.assert_allclose(layer(x), 3 * x, rtol=1e-6)


def test_dropout_training_and_inference():
    utils.set_random_seed(1)
    layer = layers.Dropout(0.5)
    x = T.fmatrix("x")
    f_train = function([x], layer(x, training=True))
    f_test = function([x], layer(x, training=False))
    data = np.ones((200, 50), dtype="float32")
    out = f_train(data)
    assert set(np.unique(out)) <= {0.0, 2.0}
    assert 0.4 < (out == 0).mean() < 0.6
    assert not np.array_equal(out, f_train(data))  # a new mask each call
    np.testing.assert_array_equal(f_test(data), data)
    np.testing.assert_array_equal(layer(data), data)  # eager calls run in inference mode
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(1.5)


def test_dropout_noise_shape_broadcasts():
    layer = layers.Dropout(0.5, noise_shape=(None, 1, 4), seed=3)
    x = T.ftensor3("x")
    out = function([x], layer(x, training=True))(np.ones((2, 5, 4), "float32"))
    assert np.all(out == out[:, :1, :])


def test_dropout_gradient_uses_the_same_mask():
    layer = layers.Dropout(0.3, seed=0)
    x = T.fmatrix("x")
    y = layer(x, training=True)
    g = T.grad(T.sum(y), x)
    out, grad = function([x], [y, g])(np.ones((10, 10), "float32"))
    np.testing.assert_allclose(grad, out, rtol=1e-6)  # x = 1, so dy/dx equals y


def test_seeded_dropout_is_repeatable():
    def masks():
        utils.set_random_seed(7)
        model = Sequential([layers.Input(shape=(30,)), layers.Dropout(0.5)])
        x = T.fmatrix("x")
        return function([x], model(x, training=True))(np.ones((4, 30), "float32"))

    np.testing.assert_array_equal(masks(), masks())


def test_layer_unknown_kwarg_and_bad_units():
    with pytest.raises(TypeError, match="unknown keyword"):
        layers.Dense(3, unitz=4)
    with pytest.raises(ValueError, match="units"):
        layers.Dense(0)
