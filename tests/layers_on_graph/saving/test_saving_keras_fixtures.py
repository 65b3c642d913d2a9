"""Files written by real Keras 3.15.1 (tests/data, made by tests/make_keras_fixtures.py) load here
and predict what Keras predicted, in every format."""
import h5py
import numpy as np
import pytest
from saving_models import BUILDERS, expected, fixture

from layers_on_graph import load_model
from layers_on_graph.saving.legacy_h5 import load_attributes

MODELS = list(BUILDERS)
WEIGHT_FILES = ["{}.weights.h5", "{}_legacy.h5", "{}_model.h5"]


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("pattern", WEIGHT_FILES)
def test_load_weights_from_keras_predicts_like_keras(name, pattern):
    x, y = expected(name)
    model = BUILDERS[name]()
    model.load_weights(fixture("keras_" + pattern.format(name)))
    np.testing.assert_allclose(model.predict(x, verbose=0), y, rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_load_model_builds_keras_legacy_h5(name):
    x, y = expected(name)
    model = load_model(fixture(f"keras_{name}_model.h5"))
    np.testing.assert_allclose(model.predict(x, verbose=0), y, rtol=0, atol=1e-5)
    ours = BUILDERS[name]()
    assert [type(l).__name__ for l in model.layers] == [type(l).__name__ for l in ours.layers]
    assert model.compiled and type(model.optimizer).__name__ == "Adam"


def test_fixture_layouts_are_what_keras_writes():
    with h5py.File(fixture("keras_lstm.weights.h5"), "r") as f:
        assert sorted(f["layers/lstm/cell/vars"]) == ["0", "1", "2"]
        assert len(f["layers/lstm/vars"]) == 0
    with h5py.File(fixture("keras_cnn_legacy.h5"), "r") as f:
        assert "layer_names" in f.attrs and "keras_version" in f.attrs and "backend" in f.attrs
        names = load_attributes(f["batch_normalization"], "weight_names")
        assert [n.split("/")[-1] for n in names] == ["gamma", "beta", "moving_mean",
                                                     "moving_variance"]
    with h5py.File(fixture("keras_mlp_model.h5"), "r") as f:
        assert "model_config" in f.attrs and "model_weights" in f


def test_load_by_name_from_keras_legacy_h5():
    x, y = expected("mlp")
    model = BUILDERS["mlp"]()
    # Layer names here may differ from Keras's; rename to the file's names.
    with h5py.File(fixture("keras_mlp_legacy.h5"), "r") as f:
        names = load_attributes(f, "layer_names")
    for layer, name in zip(model.layers, names):
        layer.name = name
    model.load_weights(fixture("keras_mlp_legacy.h5"), by_name=True)
    np.testing.assert_allclose(model.predict(x, verbose=0), y, rtol=0, atol=1e-5)


def test_training_resumes_from_a_keras_zip_with_its_adam_state():
    with h5py.File(fixture("keras_expected.h5"), "r") as f:
        x, y = f["resume/x"][()], f["resume/y"][()]
        after = [f[f"resume/after_step2/{i}"][()] for i in range(4)]
    model = load_model(fixture("keras_resume.keras"))
    assert int(model.optimizer.iterations.get_value()) == 1
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)
    assert model.metrics_names == ["loss", "accuracy"]
    model.train_on_batch(x, y)  # Keras's second step, from Keras's moments
    for ours, theirs in zip(model.get_weights(), after):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)
