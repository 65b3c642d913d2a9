"""Debugging a model: NaN hunting in fit (debug_nan, TerminateOnNaN) and every layer's
output through the Keras idiom ``Model(model.inputs, [l.output for l in model.layers])``."""
import os

import numpy as np
import pytest

import core.tensor as T
from layers_on_graph import Input, Model, Sequential, callbacks, layers, optimizers

HERE = os.path.basename(__file__)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _log_model():
    """A model whose 'log_layer' makes NaN when its input goes negative."""
    model = Sequential([Input((3,)), layers.Dense(2, kernel_initializer="ones"),
                        layers.Lambda(T.log, output_shape=(2,), name="log_layer"),  # the NaN line
                        layers.Dense(1, kernel_initializer="ones")])
    model.compile(optimizer=optimizers.SGD(0.01), loss="mse")
    return model


def _data():
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 2, size=(12, 3)).astype("float32")
    x[8:] = -x[8:]  # the third batch of 4 goes through log of negative numbers
    return x, rng.normal(size=(12, 1)).astype("float32")


def _good_steps_weights(x, y):
    model = _log_model()
    model.fit(x[:8], y[:8], batch_size=4, shuffle=False, verbose=0)
    return model.get_weights()


def test_debug_nan_names_the_layer_and_line_and_keeps_the_last_good_weights():
    x, y = _data()
    model = _log_model()
    with pytest.raises(FloatingPointError) as info:
        model.fit(x, y, batch_size=4, shuffle=False, verbose=0, debug_nan=True)
    text = str(info.value)
    assert "first NaN is in layer 'log_layer' (Lambda)" in text
    assert HERE in text and "# the NaN line" in text  # where the layer was created
    assert "NaN (" in text and "range [" in text
    for got, want in zip(model.get_weights(), _good_steps_weights(x, y)):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert int(model.optimizer.iterations.get_value()) == 2  # the failing step left no trace



def test_debug_nan_on_a_stream_keeps_the_last_good_weights():
    x, y = _data()
    model = _log_model()
    batches = (b for b in [(x[k:k + 4], y[k:k + 4]) for k in range(0, 12, 4)])
    with pytest.raises(FloatingPointError, match="first NaN is in layer 'log_layer'"):
        model.fit(batches, steps_per_epoch=3, verbose=0, debug_nan=True)
    for got, want in zip(model.get_weights(), _good_steps_weights(x, y)):
        np.testing.assert_allclose(got, want, rtol=1e-6)

def test_terminate_on_nan_reports_and_restores(capsys):
    x, y = _data()
    model = _log_model()
    watcher = callbacks.TerminateOnNaN()
    hist = model.fit(x, y, batch_size=4, shuffle=False, epochs=3, verbose=0,
                     callbacks=[watcher])
    out = capsys.readouterr().out
    assert "Batch 2: Invalid loss, terminating training" in out
    assert "first NaN is in layer 'log_layer'" in out and watcher.report in out
    assert len(hist.epoch) == 1
    for got, want in zip(model.get_weights(), _good_steps_weights(x, y)):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_terminate_on_nan_without_debug_is_keras_behaviour(capsys):
    x, y = _data()
    model = _log_model()
    model.fit(x, y, batch_size=4, shuffle=False, verbose=0,
              callbacks=[callbacks.TerminateOnNaN(debug=False)])
    assert "Invalid loss" in capsys.readouterr().out
    assert not all(np.isfinite(w).all() for w in model.get_weights())  # the NaN step applied
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 2"):
        _log_model().fit(x, y, batch_size=4, shuffle=False, verbose=0,
                         callbacks=[callbacks.TerminateOnNaN(raise_error=True)])


def test_nan_in_the_data_is_named_as_an_input():
    x, y = _data()
    x = np.abs(x)
    x[5, 1] = np.nan
    model = _log_model()
    with pytest.raises(FloatingPointError, match="NaN .* in input x0"):
        model.fit(x, y, batch_size=4, shuffle=False, verbose=0, debug_nan=True)


def test_a_nan_in_a_functional_model_points_at_the_users_call_line():
    inputs = Input((3,))
    h = layers.Dense(2, kernel_initializer="ones", name="d")(inputs)
    bad = layers.Lambda(lambda t: T.sqrt(t - 100.0), output_shape=(2,), name="sqrt_layer")(h)  # functional line
    model = Model(inputs, layers.Dense(1)(bad))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(FloatingPointError) as info:
        model.fit(np.ones((4, 3), "float32"), np.ones((4, 1), "float32"), verbose=0,
                  debug_nan=True)
    assert "layer 'sqrt_layer'" in str(info.value) and "# functional line" in str(info.value)


def _every_layer_output(model, x):
    probe = Model(model.inputs, [layer.output for layer in model.layers])
    return probe.predict(x, verbose=0)


def test_keras_idiom_every_layer_output_sequential():
    model = Sequential([Input((4,)), layers.Dense(3, activation="relu"), layers.Dropout(0.5),
                        layers.Dense(2)])
    x = np.random.default_rng(1).normal(size=(5, 4)).astype("float32")
    dense, _, head = model.layers
    outs = _every_layer_output(model, x)
    assert [o.shape for o in outs] == [(5, 3), (5, 3), (5, 2)]
    w, b = dense.get_weights()
    np.testing.assert_allclose(outs[0], np.maximum(x @ w + b, 0), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(outs[1], outs[0])  # dropout at inference: the identity
    np.testing.assert_allclose(outs[2], model.predict(x, verbose=0), rtol=1e-6)


def test_keras_idiom_every_layer_output_functional_and_lazily_built():
    inputs = Input((4,))
    h = layers.Dense(3, name="d1")(inputs)
    model = Model(inputs, layers.Dense(2)(layers.Activation("tanh")(h)))
    x = np.random.default_rng(2).normal(size=(5, 4)).astype("float32")
    outs = _every_layer_output(model, x)
    assert [o.shape for o in outs] == [(5, 4), (5, 3), (5, 3), (5, 2)]
    np.testing.assert_array_equal(outs[0], x)
    np.testing.assert_allclose(outs[2], np.tanh(outs[1]), rtol=1e-6)
    lazy = Sequential([layers.Dense(3), layers.Dense(2)])
    lazy.predict(x, verbose=0)  # built from the data
    outs = _every_layer_output(lazy, x)
    np.testing.assert_allclose(outs[-1], lazy.predict(x, verbose=0), rtol=1e-6)


def test_keras_idiom_matches_real_keras():
    keras = pytest.importorskip("keras")
    x = np.random.default_rng(3).normal(size=(5, 4)).astype("float32")
    ours = Sequential([Input((4,)), layers.Dense(3, activation="relu"), layers.Dropout(0.5),
                       layers.Dense(2)])
    theirs = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"),
                               keras.layers.Dropout(0.5), keras.layers.Dense(2)])
    theirs.set_weights(ours.get_weights())
    probe = keras.Model(theirs.inputs, [layer.output for layer in theirs.layers])
    for got, want in zip(_every_layer_output(ours, x), probe.predict(x, verbose=0)):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-6)
