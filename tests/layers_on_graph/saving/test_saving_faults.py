"""Every load checks everything first (a failed load leaves the model as it was); saves are
atomic; corrupt files raise clear errors; nothing from a file runs unless safe_mode=False."""
import errno
import os
import pathlib

import h5py
import numpy as np
import pytest
from saving_models import BUILDERS, KINDS, randomize, sample_input
from saving_models import save_as as _save

import core.tensor as T
from layers_on_graph import Input, Sequential, layers, load_model, saving
from layers_on_graph.saving import legacy_h5, weights_h5


def _weights_unchanged(model, before):
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)




@pytest.mark.parametrize("kind", list(KINDS))
def test_shape_mismatch_names_layer_weight_and_both_shapes(tmp_path, kind):
    path = tmp_path / KINDS[kind]
    _save(Sequential([Input((4,)), layers.Dense(3), layers.Dense(5, name="head")]), path, kind)
    model = Sequential([Input((4,)), layers.Dense(3), layers.Dense(2, name="head")])
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"'head'.*kernel.*\(3, 5\).*\(3, 2\)"):
        model.load_weights(path)
    _weights_unchanged(model, before)


@pytest.mark.parametrize("kind", ["keras3", "keras2"])
def test_layer_count_mismatch_changes_nothing(tmp_path, kind):
    path = tmp_path / KINDS[kind]
    _save(Sequential([Input((4,)), layers.Dense(3), layers.Dense(2)]), path, kind)
    model = Sequential([Input((4,)), layers.Dense(3), layers.Dense(3), layers.Dense(2)])
    before = model.get_weights()
    with pytest.raises(ValueError, match="dense"):
        model.load_weights(path)
    _weights_unchanged(model, before)


def test_file_with_more_layers_than_the_model_is_refused(tmp_path):
    path = tmp_path / "w.weights.h5"
    Sequential([Input((4,)), layers.Dense(4), layers.Dense(4), layers.Dense(4)]).save_weights(
        path)
    model = Sequential([Input((4,)), layers.Dense(4), layers.Dense(4)])
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"no layer for: \['layers/dense_2/vars'\]"):
        model.load_weights(path)
    _weights_unchanged(model, before)
    model.load_weights(path, skip_mismatch=True)
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(model.layers[1].kernel.get_value(),
                                      f["layers/dense_1/vars/0"][()])


def test_weight_count_mismatch_in_a_layer(tmp_path):
    path = tmp_path / "w.h5"
    _save(Sequential([Input((4,)), layers.Dense(3, use_bias=False)]), path, "keras2")
    model = Sequential([Input((4,)), layers.Dense(3)])
    with pytest.raises(ValueError, match=r"has 2 weights .* has 1"):
        model.load_weights(path)


def test_dtype_mismatch_changes_nothing(tmp_path):
    path = tmp_path / "w.weights.h5"
    model = Sequential([Input((4,)), layers.Dense(3), layers.Dense(2)])
    model.save_weights(path)
    with h5py.File(path, "a") as f:
        del f["layers/dense_1/vars/1"]
        f["layers/dense_1/vars/1"] = np.array([b"ab", b"cd"])
    before = model.get_weights()
    randomize(model)
    changed = model.get_weights()
    with pytest.raises(ValueError, match=r"bias.*dtype \|S2.*float32"):
        model.load_weights(path)
    _weights_unchanged(model, changed)
    assert not np.array_equal(before[0], changed[0])


@pytest.mark.parametrize("kind", list(KINDS))
def test_truncated_file_raises_and_changes_nothing(tmp_path, kind):
    path = tmp_path / KINDS[kind]
    model = BUILDERS["cnn"]()
    _save(model, path, kind)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    randomize(model)
    before = model.get_weights()
    with pytest.raises(ValueError, match="truncated|corrupt"):
        model.load_weights(path)
    _weights_unchanged(model, before)
    if kind in ("keras", "model_h5"):
        with pytest.raises(ValueError, match="truncated|corrupt"):
            load_model(path)


@pytest.mark.parametrize("kind", ["keras3", "keras2"])
def test_flipped_bytes_in_weight_data_are_caught_by_the_checksum(tmp_path, kind):
    path = tmp_path / KINDS[kind]
    model = Sequential([Input((64,)), layers.Dense(64)])
    randomize(model)
    _save(model, path, kind)
    data = bytearray(path.read_bytes())
    kernel = model.layers[0].kernel.get_value().tobytes()
    at = bytes(data).find(kernel[:64])
    assert at > 0
    data[at + 100] ^= 0xFF
    path.write_bytes(bytes(data))
    before = model.get_weights()
    with pytest.raises(ValueError, match="truncated or corrupt"):
        model.load_weights(path)
    _weights_unchanged(model, before)


def test_not_hdf5_and_missing_files(tmp_path):
    model = BUILDERS["mlp"]()
    bad = tmp_path / "notes.weights.h5"
    bad.write_text("these are not weights")
    with pytest.raises(ValueError, match="HDF5"):
        model.load_weights(bad)
    with pytest.raises(FileNotFoundError, match="no such file"):
        model.load_weights(tmp_path / "missing.weights.h5")
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_model(tmp_path / "missing.h5")
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_model(tmp_path / "missing.keras")
    with pytest.raises(FileNotFoundError, match="no such file"):
        model.load_weights(tmp_path / "missing.keras")
    zipped = tmp_path / "broken.keras"
    zipped.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match=".keras archive"):
        load_model(zipped)
    empty = tmp_path / "empty.h5"
    h5py.File(empty, "w").close()
    with pytest.raises(ValueError, match="no weights in a known layout"):
        model.load_weights(empty)
    with pytest.raises(ValueError, match="model_config"):
        load_model(empty)


def _fail_after(monkeypatch, n_ok: int):
    """Make the n_ok+1-th array write fail as a full disk would."""
    calls = []
    real = weights_h5.create_dataset

    def failing(group, name, value):
        calls.append(name)
        if len(calls) > n_ok:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(group, name, value)

    monkeypatch.setattr(weights_h5, "create_dataset", failing)
    monkeypatch.setattr(legacy_h5, "create_dataset", failing)


@pytest.mark.parametrize("kind", list(KINDS))
def test_interrupted_save_leaves_the_previous_file_intact(tmp_path, monkeypatch, kind):
    path = tmp_path / KINDS[kind]
    model = BUILDERS["cnn"]()
    _save(model, path, kind)
    good = path.read_bytes()
    randomize(model, seed=5)
    _fail_after(monkeypatch, 3)
    with pytest.raises(OSError, match="No space"):
        _save(model, path, kind)
    assert path.read_bytes() == good
    assert sorted(os.listdir(tmp_path)) == [path.name]  # no temporary file left behind
    monkeypatch.undo()
    other = BUILDERS["cnn"]()
    other.load_weights(path)  # the old file still loads


def test_overwrite_false_refuses(tmp_path):
    model = BUILDERS["mlp"]()
    model.save_weights(tmp_path / "w.weights.h5")
    with pytest.raises(ValueError, match="overwrite"):
        model.save_weights(tmp_path / "w.weights.h5", overwrite=False)


def double(t):
    return t * 2


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_lambda_bytecode_is_refused_in_safe_mode(tmp_path, suffix):
    model = Sequential([Input((3,)), layers.Lambda(lambda t: T.sqr(t) + 1), layers.Dense(2)])
    path = tmp_path / f"lam{suffix}"
    model.save(path)
    with pytest.raises(ValueError, match=r"safe_mode=False"):
        load_model(path)
    loaded = load_model(path, safe_mode=False)
    x = sample_input("mlp")[:, :3]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_named_function_comes_only_from_custom_objects(tmp_path):
    model = Sequential([Input((3,)), layers.Lambda(double), layers.Dense(2)])
    model.save(tmp_path / "named.keras")
    with pytest.raises(ValueError, match="custom_objects"):
        load_model(tmp_path / "named.keras")
    loaded = load_model(tmp_path / "named.keras", custom_objects={"double": double})
    x = sample_input("mlp")[:, :3]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_keras2_lambda_config_is_refused_in_safe_mode():
    config = ('{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": '
              '"Lambda", "config": {"name": "l", "function": ["ZmFrZQ==", null, null], '
              '"function_type": "lambda", "batch_input_shape": [null, 3]}}]}}')
    with pytest.raises(ValueError, match="safe_mode=False"):
        saving.model_from_json(config)


def test_saving_code_never_uses_pickle():
    folder = pathlib.Path(saving.__file__).parent
    for source in folder.glob("*.py"):
        text = source.read_text()
        for banned in ("import pickle", "pickle.", "eval(", "exec(", "__import__",
                       "importlib"):
            assert banned not in text, (source, banned)
