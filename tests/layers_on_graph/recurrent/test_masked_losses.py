"""Masked sequence outputs: the loss and the metrics count only the steps the mask keeps (Keras)."""
import numpy as np
import pytest

import layers_on_graph as lg
from layers_on_graph import layers

RNG = np.random.default_rng(11)
X = RNG.integers(1, 10, size=(12, 7))
X[:, 5:] = 0  # padding at the end of every sequence
X[3, 2:] = 0
Y = RNG.integers(0, 3, size=(12, 7))


def tagger(**compile_kwargs):
    model = lg.Sequential([layers.Input((7,), dtype="int64"),
                           layers.Embedding(10, 4, mask_zero=True),
                           layers.LSTM(5, return_sequences=True),
                           layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], **compile_kwargs)
    return model


def test_loss_and_accuracy_are_means_over_the_kept_steps():
    model = tagger()
    p = model.predict(X, verbose=0)
    keep = X != 0
    picked = np.take_along_axis(p, Y[..., None], axis=-1)[..., 0]
    want_loss = -np.log(picked)[keep].mean()
    want_acc = (p.argmax(-1) == Y)[keep].mean()
    got = model.evaluate(X, Y, verbose=0, return_dict=True)
    np.testing.assert_allclose(got["loss"], want_loss, rtol=1e-5)
    np.testing.assert_allclose(got["accuracy"], want_acc, rtol=1e-6)
    # with sample weights: each kept step weighs its sample's weight
    sw = RNG.random(12)
    weights = np.broadcast_to(sw[:, None], keep.shape)
    got = model.evaluate(X, Y, sample_weight=sw, verbose=0, return_dict=True)
    np.testing.assert_allclose(got["loss"], (-np.log(picked) * weights)[keep].sum() / keep.sum(),
                               rtol=1e-5)


def test_padding_labels_do_not_move_the_weights():
    model = tagger()
    before = [w.copy() for w in model.get_weights()]
    y_other = Y.copy()
    y_other[X == 0] = (Y[X == 0] + 1) % 3  # only the labels of padded steps differ
    model.fit(X, Y, epochs=1, batch_size=12, verbose=0, shuffle=False)
    once = model.get_weights()
    model.set_weights(before)
    model.fit(X, y_other, epochs=1, batch_size=12, verbose=0, shuffle=False)
    for a, b in zip(once, model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_dense_and_activation_pass_the_mask_on():
    x = layers.Input((7,), dtype="int64")
    h = layers.Embedding(10, 4, mask_zero=True)(x)
    for layer in (layers.Dense(3), layers.Activation("tanh"), layers.LayerNormalization()):
        h = layer(h)
        assert getattr(h, "_keras_mask", None) is not None, layer


def test_sequence_labels_of_the_wrong_shape_are_a_clear_error():
    model = tagger()
    with pytest.raises(ValueError, match="per step of a sequence"):
        model.evaluate(X, Y[:, :4], verbose=0)


def test_same_loss_and_accuracy_as_keras():
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("keras is imported with another backend than torch")
    ours = tagger()
    theirs = keras.Sequential([keras.Input((7,), dtype="int64"),
                               keras.layers.Embedding(10, 4, mask_zero=True),
                               keras.layers.LSTM(5, return_sequences=True),
                               keras.layers.Dense(3, activation="softmax")])
    theirs.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    theirs.set_weights(ours.get_weights())
    got = ours.evaluate(X, Y, verbose=0, return_dict=True)
    want = theirs.evaluate(X, Y, verbose=0, return_dict=True)
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-5)
    np.testing.assert_allclose(got["accuracy"], want["accuracy"], rtol=1e-5)


def test_an_explicit_mask_input_of_a_functional_model_is_replayed():
    inp, m = layers.Input((7, 4)), layers.Input((7,), dtype="bool")
    rnn = layers.LSTM(5, return_sequences=True)
    model = lg.Model([inp, m], rnn(inp, mask=m))
    x = RNG.random((3, 7, 4)).astype("float32")
    mask = np.ones((3, 7), bool)
    mask[0, 4:] = False
    got = model.predict([x, mask], verbose=0)
    np.testing.assert_allclose(got[0, 4:], np.broadcast_to(got[0, 3], (3, 5)))  # carried over
    alone = lg.Model(inp, rnn(inp)).predict(x, verbose=0)  # the same layer, no mask
    np.testing.assert_allclose(got[1:], alone[1:], rtol=1e-5, atol=1e-6)
    assert not np.allclose(got[0, 4:], alone[0, 4:])
    model.compile(optimizer="sgd", loss="mse")
    model.fit([x, mask], np.zeros((3, 7, 5)), epochs=1, verbose=0)  # the mask is a real input
