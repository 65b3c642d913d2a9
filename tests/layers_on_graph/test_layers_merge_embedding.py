"""Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate and Embedding."""
import numpy as np
import pytest

import core.tensor as T
from core.gradient import verify_grad
from layers_on_graph import Input, Model, layers

rng = np.random.default_rng(0)


@pytest.mark.parametrize("cls,fn", [
    (layers.Add, lambda a, b: a + b), (layers.Subtract, lambda a, b: a - b),
    (layers.Multiply, lambda a, b: a * b), (layers.Average, lambda a, b: (a + b) / 2),
    (layers.Maximum, np.maximum), (layers.Minimum, np.minimum)])
def test_merge_values_and_gradients(cls, fn):
    a, b = rng.normal(size=(2, 3, 4)).astype("float32")
    np.testing.assert_allclose(cls()([a, b]), fn(a, b), rtol=1e-6)
    for dtype in ("float32", "float64"):
        verify_grad(lambda x, y: cls(dtype=dtype)([x, y]), [a, b], dtype=dtype)


def test_concatenate_values_shapes_and_gradient():
    a = rng.normal(size=(2, 3)).astype("float32")
    b = rng.normal(size=(2, 5)).astype("float32")
    np.testing.assert_array_equal(layers.Concatenate()([a, b]), np.concatenate([a, b], 1))
    c = rng.normal(size=(4, 3)).astype("float32")
    np.testing.assert_array_equal(layers.Concatenate(axis=0)([a, c]), np.concatenate([a, c]))
    out = layers.Concatenate()([Input(shape=(3,)), Input(shape=(5,))])
    assert out._keras_shape == (None, 8)
    verify_grad(lambda x, y: layers.Concatenate(dtype="float64")([x, y]), [a, b])
    with pytest.raises(ValueError, match="differ on axis"):
        layers.Concatenate()([Input(shape=(2, 3)), Input(shape=(4, 3))])


def test_merge_errors():
    with pytest.raises(ValueError, match="at least 2"):
        layers.Add()([Input(shape=(3,))])
    with pytest.raises(ValueError, match="incompatible"):
        layers.Add()([Input(shape=(3,)), Input(shape=(4,))])
    with pytest.raises(ValueError, match="exactly 2"):
        layers.Subtract()([Input(shape=(3,))] * 3)


def test_embedding_lookup_weights_and_gradient():
    layer = layers.Embedding(10, 4)
    ids = np.array([[1, 2, 9], [0, 0, 3]])
    out = layer(ids)
    table = layer.embeddings.get_value()
    assert out.shape == (2, 3, 4) and table.shape == (10, 4)
    assert np.abs(table).max() <= 0.05  # Keras's 'uniform' initializer
    np.testing.assert_array_equal(out, table[ids])
    x = T.lmatrix("ids")
    g = T.grad(T.sum(layer(x)), layer.embeddings)
    counts = np.bincount(ids.ravel(), minlength=10)[:, None] * np.ones((1, 4))
    np.testing.assert_allclose(g.eval({x: ids}), counts)


def test_embedding_in_a_model_with_float_inputs():
    inputs = Input(shape=(3,))
    model = Model(inputs, layers.Dense(2)(layers.Flatten()(layers.Embedding(5, 2)(inputs))))
    model.compile(optimizer="adam", loss="mse")
    x = np.array([[0, 1, 4], [2, 3, 3]], dtype="float32")
    assert model.predict(x, verbose=0).shape == (2, 2)
    model.fit(x, np.zeros((2, 2)), epochs=1, verbose=0)
