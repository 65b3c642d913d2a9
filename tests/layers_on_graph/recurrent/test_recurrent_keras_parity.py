"""The same weights in a real Keras 3 layer (torch backend) and here give the same outputs.

Skipped when keras (with torch) cannot be imported. Keras is imported with
KERAS_BACKEND=torch, set before the import if it is not set yet.
"""
import os

import numpy as np
import pytest

from layers_on_graph import layers

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
if keras.backend.backend() != "torch":
    pytest.skip("keras is imported with another backend than torch", allow_module_level=True)

RNG = np.random.default_rng(7)
CASES = [("SimpleRNN", {}), ("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False}),
         ("LSTM", {"go_backwards": True}), ("GRU", {"use_bias": False})]


def _to_numpy(t):
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


@pytest.mark.parametrize("name,kwargs", CASES)
def test_same_weights_same_outputs_as_keras(name, kwargs):
    x = RNG.normal(size=(3, 7, 5)).astype(np.float32)
    mask = np.ones((3, 7), bool)
    mask[0, 4:] = False
    mask[1, :2] = False
    mask[2, 3] = False
    theirs = getattr(keras.layers, name)(6, return_sequences=True, return_state=True, **kwargs)
    theirs(x)
    weights = [RNG.normal(scale=0.4, size=w.shape).astype(np.float32)
               for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours = getattr(layers, name)(6, return_sequences=True, return_state=True, **kwargs)
    ours(x)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in weights]
    ours.set_weights(weights)
    for m in (None, mask):
        expected = [_to_numpy(t) for t in theirs(x, mask=m)]
        got = ours(x, mask=m)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, atol=1e-5, rtol=1e-5)


def test_bidirectional_lstm_matches_keras():
    x = RNG.normal(size=(2, 6, 4)).astype(np.float32)
    mask = np.ones((2, 6), bool)
    mask[0, 3:] = False
    theirs = keras.layers.Bidirectional(keras.layers.LSTM(5, return_sequences=True))
    theirs(x)
    weights = [RNG.normal(scale=0.4, size=w.shape).astype(np.float32)
               for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours = layers.Bidirectional(layers.LSTM(5, return_sequences=True))
    ours(x)
    ours.set_weights(weights)
    for m in (None, mask):
        np.testing.assert_allclose(ours(x, mask=m), _to_numpy(theirs(x, mask=m)), atol=1e-5)


def test_default_initial_weights_have_keras_layout():
    for name in ("SimpleRNN", "LSTM", "GRU"):
        x = np.zeros((1, 2, 3), np.float32)
        theirs, ours = getattr(keras.layers, name)(4), getattr(layers, name)(4)
        theirs(x)
        ours(x)
        assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
        np.testing.assert_array_equal(ours.get_weights()[2], theirs.get_weights()[2])  # biases


def test_weights_files_move_both_ways(tmp_path):
    from layers_on_graph import Input, Sequential

    def theirs():
        return keras.Sequential([
            keras.Input((6, 4)),
            keras.layers.Bidirectional(keras.layers.LSTM(5, return_sequences=True)),
            keras.layers.GRU(3, return_sequences=True),
            keras.layers.TimeDistributed(keras.layers.Dense(2)), keras.layers.SimpleRNN(2)])

    def ours():
        return Sequential([Input(shape=(6, 4)),
                           layers.Bidirectional(layers.LSTM(5, return_sequences=True)),
                           layers.GRU(3, return_sequences=True),
                           layers.TimeDistributed(layers.Dense(2)), layers.SimpleRNN(2)])

    x = RNG.normal(size=(3, 6, 4)).astype(np.float32)
    keras_model = theirs()
    keras_model.save_weights(str(tmp_path / "k.weights.h5"))
    model = ours()
    model.load_weights(str(tmp_path / "k.weights.h5"))
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               _to_numpy(keras_model.predict(x, verbose=0)), atol=1e-5)
    model.save_weights(str(tmp_path / "o.weights.h5"))
    back = theirs()
    back.load_weights(str(tmp_path / "o.weights.h5"))
    np.testing.assert_allclose(_to_numpy(back.predict(x, verbose=0)),
                               model.predict(x, verbose=0), atol=1e-5)
