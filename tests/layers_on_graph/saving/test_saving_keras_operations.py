"""Keras 3 operation nodes (``x * 0.5``, ``3.0 - x`` on Keras tensors) load from Keras's
``.keras`` files, predict as Keras, and save back in Keras's form."""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", minversion="3.0")
if keras.backend.backend() != "torch":
    pytest.skip("keras runs on another backend in this process", allow_module_level=True)

import layers_on_graph as lg  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _keras_model():
    inputs = keras.Input(shape=(4,))
    hidden = keras.layers.Dense(3)(inputs)
    scaled = 3.0 - keras.layers.ReLU(6.0)(hidden + 3.0) * (1.0 / 6.0)
    gated = keras.layers.Multiply()([hidden, keras.ops.sigmoid(scaled)])
    pooled = keras.ops.sqrt(keras.layers.Dense(1)(gated) ** 2 + 1.0)  # (batch, 1)
    return keras.Model(inputs, keras.ops.maximum(gated, -0.5) / 2.0 + pooled)


def test_operation_nodes_load_and_save_back(tmp_path):
    model = _keras_model()
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32") * 3
    want = keras.ops.convert_to_numpy(model.predict(x, verbose=0))
    model.save(tmp_path / "k.keras")
    ours = lg.saving.load_model(str(tmp_path / "k.keras"))
    np.testing.assert_allclose(ours.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)
    ours.save(str(tmp_path / "ours.keras"))
    back = keras.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(back.predict(x, verbose=0)), want,
                               rtol=1e-5, atol=1e-6)


def test_any_ops_function_loads_by_its_keras_name(tmp_path):
    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, keras.ops.cumsum(inputs, axis=1))
    model.save(tmp_path / "k.keras")
    x = np.random.default_rng(1).normal(size=(3, 4)).astype("float32")
    np.testing.assert_allclose(lg.saving.load_model(str(tmp_path / "k.keras")).predict(
        x, verbose=0), np.cumsum(x, axis=1), rtol=1e-6)


def test_unsupported_operation_is_named(tmp_path):
    inputs = keras.Input(shape=(4, 4))
    keras.Model(inputs, keras.ops.det(inputs)).save(tmp_path / "k.keras")
    with pytest.raises(ValueError, match="Det"):
        lg.saving.load_model(str(tmp_path / "k.keras"))
