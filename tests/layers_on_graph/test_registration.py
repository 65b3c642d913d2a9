"""``saving.register_keras_serializable``: custom layers load without custom_objects."""
import json

import numpy as np
import pytest

import layers_on_graph as lg
from layers_on_graph import layers, ops, saving
from layers_on_graph.saving.registration import clear_registry_entry

X = np.random.default_rng(2).normal(size=(4, 3)).astype("float32")


def _scale_class(base, ops_module, register):
    """A registered layer with a weight and a config entry; the same code for both
    libraries."""

    @register(package="kcore_tests")
    class Scale(base):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

        def call(self, x):
            return ops_module.multiply(x, self.w) * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    return Scale


@pytest.fixture
def scale_class():
    cls = _scale_class(layers.Layer, ops, saving.register_keras_serializable)
    yield cls
    clear_registry_entry(cls)


def _model(cls):
    inp = lg.Input(shape=(3,))
    return lg.Model(inp, layers.Dense(2)(cls(factor=3.0)(inp)))


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_registered_layer_loads_without_custom_objects(tmp_path, scale_class, suffix):
    model = _model(scale_class)
    model.layers[1].w.assign(np.array([1.0, 2.0, 3.0]))
    path = str(tmp_path / f"m{suffix}")
    model.save(path)
    loaded = saving.load_model(path)
    assert type(loaded.layers[1]) is scale_class and loaded.layers[1].factor == 3.0
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0),
                               rtol=1e-6)


def test_registered_name_is_written_and_resolved(scale_class):
    assert saving.get_registered_name(scale_class) == "kcore_tests>Scale"
    assert saving.get_registered_object("kcore_tests>Scale") is scale_class
    entry = json.loads(_model(scale_class).to_json())
    names = [layer["registered_name"] for layer in entry["config"]["layers"]]
    assert "kcore_tests>Scale" in names
    again = lg.models.model_from_json(json.dumps(entry))
    assert type(again.layers[1]) is scale_class


def test_unregistered_layer_still_needs_custom_objects(tmp_path):
    class Plain(layers.Layer):
        def call(self, x):
            return x

    inp = lg.Input(shape=(3,))
    path = str(tmp_path / "plain.keras")
    lg.Model(inp, Plain()(inp)).save(path)
    with pytest.raises(ValueError, match="custom_objects"):
        saving.load_model(path)
    assert type(saving.load_model(path, custom_objects={"Plain": Plain}).layers[1]) is Plain


def test_registering_a_class_without_get_config_fails():
    with pytest.raises(ValueError, match="get_config"):
        saving.register_keras_serializable()(type("NoConfig", (), {}))


def test_keras_loads_a_file_with_our_registered_layer(tmp_path, scale_class):
    keras = pytest.importorskip("keras")

    _scale_class(keras.layers.Layer, keras.ops, keras.saving.register_keras_serializable)
    model = _model(scale_class)
    path = str(tmp_path / "ours.keras")
    model.save(path)
    kmodel = keras.saving.load_model(path)
    np.testing.assert_allclose(kmodel.predict(X, verbose=0), model.predict(X, verbose=0),
                               rtol=1e-5, atol=1e-5)
    kpath = str(tmp_path / "theirs.keras")
    kmodel.save(kpath)
    back = saving.load_model(kpath)
    np.testing.assert_allclose(back.predict(X, verbose=0), model.predict(X, verbose=0),
                               rtol=1e-5, atol=1e-5)
