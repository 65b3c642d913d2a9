"""Operations between layer outputs (``x + y``, ``ops.*``) in functional models, as Keras 3
records them: the model trains every layer, predicts as Keras, clones and saves weights."""
import numpy as np
import pytest

from layers_on_graph import Input, Model, layers, models, ops


def _build(lib):
    """The same graph in Keras or here: residual and scaled sums, an op, then a layer."""
    i = lib.Input(shape=(6,))
    h = lib.layers.Dense(4)(i)
    g = lib.layers.Dense(4)(i)
    z = lib.ops.relu(h + 2.0 * g) - lib.ops.mean(h, axis=-1, keepdims=True)
    return lib.Model(i, lib.layers.Dense(3, activation="softmax")(z))


def test_operations_between_layers_predict_as_keras():
    keras = pytest.importorskip("keras")
    import layers_on_graph

    theirs, ours = _build(keras), _build(layers_on_graph)
    assert len(ours.weights) == 6 and ours.output_shape == (None, 3)
    assert [type(l).__name__ for l in ours.layers] == [type(l).__name__ for l in theirs.layers]
    ours.set_weights(theirs.get_weights())
    x = np.random.default_rng(0).normal(size=(8, 6)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0),
                               np.asarray(theirs.predict(x, verbose=0)), rtol=1e-5, atol=1e-6)


def test_every_layer_after_an_operation_trains():
    model = _build(__import__("layers_on_graph"))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    before = model.get_weights()
    rng = np.random.default_rng(1)
    model.fit(rng.normal(size=(16, 6)), rng.integers(0, 3, 16), epochs=1, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_an_output_made_by_an_operation():
    i = Input(shape=(3,))
    dense = layers.Dense(2)
    model = Model(i, dense(i) * 2.0 + 1.0)
    x = np.ones((4, 3), "float32")
    kernel, bias = dense.get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0), 2 * (x @ kernel + bias) + 1,
                               rtol=1e-6)


def test_clone_keeps_the_operations_with_new_layers(tmp_path):
    model = _build(__import__("layers_on_graph"))
    clone = models.clone_model(model)
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(2).normal(size=(5, 6))
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    model.save_weights(tmp_path / "m.weights.h5")
    clone.load_weights(tmp_path / "m.weights.h5")


def test_an_operation_keras_cannot_name_refuses_a_whole_save(tmp_path):
    import core.tensor as T

    i = Input(shape=(3,))
    model = Model(i, layers.Dense(2)(T.sum(layers.Dense(4)(i), axis=1, keepdims=True)))
    assert model.predict(np.ones((2, 3)), verbose=0).shape == (2, 2)
    model.save_weights(tmp_path / "m.weights.h5")
    with pytest.raises(NotImplementedError, match="save_weights works"):
        model.save(tmp_path / "m.keras")


def test_a_tensor_from_outside_the_inputs_is_refused():
    import core.tensor as T

    i = Input(shape=(3,))
    with pytest.raises(ValueError, match="was not produced by layers"):
        Model(i, layers.Dense(2)(i) + T.matrix())


def test_elementwise_operations_save_as_keras_operation_nodes(tmp_path):
    """x + y, 2 * h and the like are saved as Keras 3 saves them, and load in both."""
    keras = pytest.importorskip("keras")
    from layers_on_graph.saving import load_model

    i = Input(shape=(6,))
    h = layers.Dense(4)(i)
    g = layers.Dense(4, activation="tanh")(i)
    model = Model(i, layers.Dense(2)((h + 2.0 * g) / 3.0 - ops.sigmoid(h)))
    path = str(tmp_path / "ops.keras")
    model.save(path)
    x = np.random.default_rng(3).normal(size=(5, 6)).astype("float32")
    want = model.predict(x, verbose=0)
    np.testing.assert_allclose(load_model(path).predict(x, verbose=0), want, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(keras.saving.load_model(path).predict(x, verbose=0)),
                               want, rtol=1e-5, atol=1e-6)


def test_ops_calls_between_layers_save_as_keras_does(tmp_path):
    """ops.mean/sum/max/concatenate/reshape/transpose on layer outputs are Keras operation
    nodes with their arguments as config: files move both ways with real Keras."""
    keras = pytest.importorskip("keras")
    import layers_on_graph
    from layers_on_graph.saving import load_model

    def build(lib):
        i = lib.Input(shape=(6, 4))
        h = lib.layers.Dense(3)(i)
        z = lib.ops.mean(h, axis=1, keepdims=False) + lib.ops.sum(h, axis=-2)
        z = lib.ops.concatenate([z, lib.ops.max(h, axis=1)], axis=-1)
        z = lib.ops.transpose(lib.ops.reshape(z, (-1, 3, 2)), (0, 2, 1))
        return lib.Model(i, lib.layers.Flatten()(z))

    ours, theirs = build(layers_on_graph), build(keras)
    assert [type(l).__name__ for l in ours.layers] == [type(l).__name__ for l in theirs.layers]
    ours.set_weights(theirs.get_weights())
    x = np.random.default_rng(4).normal(size=(5, 6, 4)).astype("float32")
    want = np.asarray(theirs.predict(x, verbose=0))
    np.testing.assert_allclose(ours.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    loaded_by_keras = keras.saving.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(np.asarray(loaded_by_keras.predict(x, verbose=0)), want,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(load_model(str(tmp_path / "theirs.keras")).predict(x, verbose=0),
                               want, rtol=1e-5, atol=1e-6)
