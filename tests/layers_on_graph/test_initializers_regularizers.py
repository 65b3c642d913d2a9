"""Initializers (Keras formulas and seeding), regularizers, floatx, utils."""
import numpy as np
import pytest

import core
import core.tensor as T
from core import function
from layers_on_graph import Input, Sequential, backend, initializers, layers, regularizers, utils


@pytest.mark.parametrize("name,shape,check", [
    ("glorot_uniform", (300, 200), lambda w: np.abs(w).max() <= np.sqrt(6 / 500)
     and abs(w.std() - np.sqrt(2 / 500)) < 0.005),
    ("he_normal", (400, 300), lambda w: abs(w.std() - np.sqrt(2 / 400)) < 0.005
     and np.abs(w).max() <= 2 * np.sqrt(2 / 400) / 0.87962566103423978 + 1e-6),
    ("he_uniform", (400, 300), lambda w: np.abs(w).max() <= np.sqrt(6 / 400)),
    ("lecun_normal", (400, 300), lambda w: abs(w.std() - np.sqrt(1 / 400)) < 0.003),
    ("glorot_normal", (3, 3, 16, 32), lambda w: abs(w.std() - np.sqrt(2 / (9 * 48))) < 0.005),
    ("zeros", (3, 4), lambda w: not w.any()),
    ("ones", (3, 4), lambda w: np.all(w == 1)),
    ("random_normal", (500, 100), lambda w: abs(w.std() - 0.05) < 0.002),
    ("random_uniform", (500, 100), lambda w: np.abs(w).max() <= 0.05),
    ("truncated_normal", (500, 100), lambda w: np.abs(w).max() <= 0.1),
    ("orthogonal", (20, 20), lambda w: np.allclose(w @ w.T, np.eye(20), atol=1e-5)),
])
def test_initializers(name, shape, check):
    w = initializers.get(name)(shape)
    assert w.shape == shape and w.dtype == np.float32
    assert check(w)


def test_initializer_seeds_and_errors():
    a = initializers.GlorotUniform(seed=3)((4, 5))
    np.testing.assert_array_equal(a, initializers.GlorotUniform(seed=3)((4, 5)))
    utils.set_random_seed(1)
    b = initializers.get("he_normal")((4, 5))
    utils.set_random_seed(1)
    np.testing.assert_array_equal(b, initializers.get("he_normal")((4, 5)))
    assert initializers.compute_fans((3, 3, 8, 16)) == (72, 144)
    np.testing.assert_array_equal(initializers.Constant(2.5)((2,)), [2.5, 2.5])
    with pytest.raises(ValueError, match="unknown initializer"):
        initializers.get("glorot_uniformm")


def test_regularizers_add_to_the_training_loss():
    model = Sequential([Input(shape=(3,)), layers.Dense(2, kernel_initializer="ones",
                                                        kernel_regularizer=regularizers.L2(0.1),
                                                        bias_regularizer="l1")])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.zeros((4, 3), "float32"), np.zeros((4, 2), "float32")
    # the prediction is exact, so the loss is the penalty: 0.1 * 6 (kernel) + 0 (bias)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(0.6)
    w = T.fvector("w")
    pen = function([w], regularizers.L1L2(l1=0.5, l2=2.0)(w))(np.array([1, -2], "float32"))
    assert float(pen) == pytest.approx(0.5 * 3 + 2.0 * 5)
    with pytest.raises(ValueError, match="unknown regularizer"):
        regularizers.get("l3")


def test_layers_compute_in_float32_whatever_the_core_floatx():
    old = core.config.floatX
    core.config.floatX = "float64"
    try:
        model = Sequential([Input(shape=(3,)), layers.Dense(4, activation="tanh"),
                            layers.BatchNormalization(), layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        assert all(w.get_value().dtype == np.float32 for w in model.weights)
        assert model.outputs[0].dtype == "float32"
        model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
        assert model.predict(np.ones((2, 3)), verbose=0).dtype == np.float32
    finally:
        core.config.floatX = old
    assert backend.floatx() == "float32" and backend.epsilon() == 1e-7


def test_to_categorical():
    np.testing.assert_array_equal(utils.to_categorical([0, 2, 1], 3),
                                  [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    with pytest.raises(ValueError, match="out of range"):
        utils.to_categorical([3], 2)
    assert utils.to_snake_case("BatchNormalization") == "batch_normalization"
    assert utils.to_snake_case("Conv2D") == "conv2d"
