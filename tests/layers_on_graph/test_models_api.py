"""``models.clone_model``, ``models.load_model``, ``models.model_from_json`` as in Keras 3."""
import numpy as np
import pytest

import layers_on_graph as lg
from layers_on_graph import layers, models, saving

X = np.random.default_rng(3).normal(size=(6, 4)).astype("float32")


def _functional():
    inp = lg.Input(shape=(4,), name="features")
    h = layers.Dense(5, activation="relu")(inp)
    shared = layers.Dense(5)
    out = layers.Add()([shared(h), shared(layers.Dense(5)(inp))])
    return lg.Model(inp, layers.Dense(2)(out), name="net")


def _sequential():
    return lg.Sequential([lg.Input(shape=(4,)), layers.Dense(3, activation="tanh"),
                          layers.Dropout(0.1), layers.Dense(2)], name="seq")


@pytest.mark.parametrize("make", [_functional, _sequential])
def test_clone_model_has_the_architecture_and_new_weights(make):
    model = make()
    clone = models.clone_model(model)
    assert type(clone) is type(model) and clone.name == model.name
    assert [type(l) for l in clone.layers] == [type(l) for l in model.layers]
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
    assert not all(np.array_equal(a, b) for a, b in zip(clone.get_weights(),
                                                        model.get_weights()))
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(X, verbose=0), model.predict(X, verbose=0),
                               rtol=1e-6)
    assert clone.input_shape == model.input_shape and clone.output_shape == model.output_shape


def test_clone_model_keeps_shared_layers_shared():
    model = _functional()
    clone = models.clone_model(model)
    assert len(clone.weights) == len(model.weights)


def test_clone_function_and_input_tensors():
    model = _sequential()
    seen = []

    def clone_function(layer):
        seen.append(layer.name)
        return layer.__class__.from_config(layer.get_config())

    clone = models.clone_model(model, clone_function=clone_function)
    assert seen == [l.name for l in model.layers]
    functional = _functional()
    new_input = lg.Input(shape=(4,))
    clone = models.clone_model(functional, input_tensors=new_input)
    assert clone.input is new_input


def test_clone_model_refuses_non_models():
    with pytest.raises(ValueError, match="clone_model"):
        models.clone_model(layers.Dense(2))


def test_models_namespace_loads_and_builds_from_json(tmp_path):
    model = _functional()
    path = str(tmp_path / "net.keras")
    model.save(path)
    for loader in (models.load_model, saving.load_model, lg.load_model):
        np.testing.assert_allclose(loader(path).predict(X, verbose=0),
                                   model.predict(X, verbose=0), rtol=1e-6)
    fresh = models.model_from_json(model.to_json())
    assert [type(l) for l in fresh.layers] == [type(l) for l in model.layers]


def test_clone_matches_keras_clone_model_structure():
    keras = pytest.importorskip("keras")
    kmodel = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3),
                               keras.layers.Dense(2)])
    kclone = keras.models.clone_model(kmodel)
    model = lg.Sequential([lg.Input(shape=(4,)), layers.Dense(3), layers.Dense(2)])
    clone = models.clone_model(model)
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in kclone.get_weights()]
    clone.set_weights(kclone.get_weights())
    np.testing.assert_allclose(clone.predict(X, verbose=0), kclone.predict(X, verbose=0),
                               rtol=1e-5, atol=1e-5)
