"""Files saved by this library load into real Keras 3 and predict the same.

Runs only where Keras 3 with the torch backend is installed (skipped otherwise);
Keras is imported once for the module.
"""
import importlib.util
import os

import h5py
import numpy as np
import pytest
from saving_models import BUILDERS, INPUT_SHAPES, randomize, sample_input

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", minversion="3.0")
_spec = importlib.util.spec_from_file_location("make_keras_fixtures", os.path.join(
    os.path.dirname(__file__), "..", "..", "make_keras_fixtures.py"))
make_keras_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_keras_fixtures)

from layers_on_graph import layers, saving  # noqa: E402

MODELS = list(BUILDERS)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """For each model: our input, our prediction and our files in every format."""
    folder = tmp_path_factory.mktemp("ours")
    out = {}
    for name in MODELS:
        model = BUILDERS[name]()
        randomize(model, seed=3)
        model.compile(optimizer="adam", loss="mse")
        x = sample_input(name, seed=4)
        paths = {k: str(folder / f"{name}{k}") for k in
                 (".weights.h5", "_legacy.h5", ".keras", ".h5")}
        model.save_weights(paths[".weights.h5"])
        saving.save_weights(model, paths["_legacy.h5"], legacy_format=True)
        model.save(paths[".keras"])
        model.save(paths[".h5"])
        out[name] = x, model.predict(x, verbose=0), paths
    return out


def _keras_model(name):
    model, shape = make_keras_fixtures.MODELS[name]()
    assert shape == INPUT_SHAPES[name]
    return model


def _close(keras_model, x, y):
    np.testing.assert_allclose(np.asarray(keras_model.predict(x, verbose=0)), y, rtol=0,
                               atol=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_keras_loads_our_weights_h5(saved, name):
    x, y, paths = saved[name]
    model = _keras_model(name)
    model.load_weights(paths[".weights.h5"])
    _close(model, x, y)


@pytest.mark.parametrize("name", MODELS)
def test_keras_legacy_reader_loads_our_keras2_layout(saved, name):
    from keras.src.legacy.saving import legacy_h5_format

    x, y, paths = saved[name]
    model = _keras_model(name)
    with h5py.File(paths["_legacy.h5"], "r") as f:
        legacy_h5_format.load_weights_from_hdf5_group(f, model)
    _close(model, x, y)


@pytest.mark.parametrize("name", MODELS)
def test_keras_load_model_reads_our_keras_zip(saved, name):
    x, y, paths = saved[name]
    model = keras.models.load_model(paths[".keras"])
    _close(model, x, y)
    assert type(model.optimizer).__name__ == "Adam"


@pytest.mark.parametrize("name", MODELS)
def test_keras_load_model_reads_our_legacy_h5(saved, name):
    # compile=False: Keras 3.15.1 cannot recompile its own legacy .h5 files either
    # ("Could not deserialize 'keras.metrics.mse'").
    x, y, paths = saved[name]
    model = keras.models.load_model(paths[".h5"], compile=False)
    _close(model, x, y)


def test_keras_loads_a_subclassed_models_weights(tmp_path):
    from layers_on_graph import Model

    class Ours(Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(3)
            self.zz = layers.Dense(2)

        def call(self, x, training=None):
            return self.zz(self.dense(x))

    class Theirs(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(3)
            self.zz = keras.layers.Dense(2)

        def call(self, x):
            return self.zz(self.dense(x))

    x = sample_input("mlp")[:, :4]
    ours = Ours()
    ours(x)
    randomize(ours)
    ours.save_weights(tmp_path / "s.weights.h5")
    theirs = Theirs()
    theirs(x)
    theirs.load_weights(str(tmp_path / "s.weights.h5"))
    _close(theirs, x, ours.predict(x, verbose=0))
