"""BatchNormalization and LayerNormalization against numpy, with Keras's defaults."""
import numpy as np
import pytest

import core.tensor as T
from core import function
from layers_on_graph import Sequential, backend, layers

from layer_test_helper import run_layer_test

rng = np.random.default_rng(0)


def _set_random_weights(layer, positive_last=True):
    values = [rng.normal(size=w.get_value().shape).astype("float32") for w in layer.weights]
    if positive_last:
        values[-1] = np.abs(values[-1]) + 0.5  # a variance
    layer.set_weights(values)


def test_batch_normalization_defaults_and_weight_order():
    layer = layers.BatchNormalization()
    assert layer.momentum == 0.99 and layer.epsilon == 1e-3
    layer(np.zeros((2, 3), "float32"))
    assert [w.name.split("/")[-1] for w in layer.weights] == [
        "gamma", "beta", "moving_mean", "moving_variance"]
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2


@pytest.mark.parametrize("shape", [(6, 4), (3, 2, 2, 4)])
def test_batch_normalization_inference_values(shape):
    x = rng.normal(size=shape).astype("float32")

    def ref(layer, x):
        g, b, mm, mv = layer.get_weights()
        return (x - mm) / np.sqrt(mv + 1e-3) * g + b

    layer = layers.BatchNormalization()
    layer(x)
    _set_random_weights(layer)
    np.testing.assert_allclose(layer(x), ref(layer, x), rtol=1e-5, atol=1e-5)
    run_layer_test(layers.BatchNormalization, {}, x, shape, check_training=False)


def test_batch_normalization_training_statistics_and_updates():
    layer = layers.BatchNormalization(momentum=0.9)
    x = T.fmatrix("x")
    layer(layers.Input(shape=(3,)))
    _set_random_weights(layer)
    g, b, mm, mv = layer.get_weights()
    with backend.collect_updates() as updates:
        y = layer(x, training=True)
    assert len(updates) == 2
    f = function([x], y, updates=updates)
    data = rng.normal(2.0, 3.0, size=(8, 3)).astype("float32")
    out = f(data)
    mean, var = data.mean(0), data.var(0)
    np.testing.assert_allclose(out, (data - mean) / np.sqrt(var + 1e-3) * g + b, rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_allclose(layer.moving_mean.get_value(), 0.9 * mm + 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.get_value(), 0.9 * mv + 0.1 * var,
                               rtol=1e-5)


def test_batch_normalization_moving_stats_change_only_in_training():
    model = Sequential([layers.Input(shape=(4,)), layers.BatchNormalization()])
    model.compile(optimizer="sgd", loss="mse")
    data = rng.normal(5.0, 1.0, size=(16, 4)).astype("float32")
    before = model.layers[0].moving_mean.get_value()
    model.evaluate(data, data, verbose=0)
    model.predict(data, verbose=0)
    np.testing.assert_array_equal(model.layers[0].moving_mean.get_value(), before)
    model.fit(data, data, epochs=1, batch_size=16, verbose=0, shuffle=False)
    np.testing.assert_allclose(model.layers[0].moving_mean.get_value(),
                               0.01 * data.mean(0), rtol=1e-4)


def test_frozen_batch_normalization_runs_in_inference_mode():
    layer = layers.BatchNormalization()
    layer.trainable = False
    x = T.fmatrix("x")
    layer(layers.Input(shape=(2,)))
    with backend.collect_updates() as updates:
        layer(x, training=True)
    assert updates == []


def test_layer_normalization_values():
    x = rng.normal(size=(3, 5, 6)).astype("float32")

    def ref(layer, x):
        g, b = layer.get_weights()
        mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-3) * g + b

    layer = layers.LayerNormalization()
    layer(x)
    _set_random_weights(layer, positive_last=False)
    np.testing.assert_allclose(layer(x), ref(layer, x), rtol=1e-4, atol=1e-5)
    run_layer_test(layers.LayerNormalization, {}, x, x.shape, ref, expected_num_weights=2,
                   atol=1e-4, rtol=1e-4)


def test_normalization_bad_axis():
    with pytest.raises(ValueError, match="axis"):
        layers.BatchNormalization(axis=3)(layers.Input(shape=(4,)))
    with pytest.raises(ValueError, match="axis"):
        layers.LayerNormalization(axis=5)(layers.Input(shape=(4,)))
