"""Files in Keras 2's formats (as Keras 2.x wrote them: Keras 2 configs, ':0' weight names,
Keras 2 optimizer keys) load here; written with h5py since Keras 3 no longer writes them."""
import json

import h5py
import numpy as np
import pytest

from layers_on_graph import load_model, model_from_json

rng = np.random.default_rng(0)
KERNEL1, BIAS1 = rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=3).astype("float32")
KERNEL2, BIAS2 = rng.normal(size=(3, 2)).astype("float32"), rng.normal(size=2).astype("float32")


def _dense(name, units, activation, extra=None):
    config = {"name": name, "trainable": True, "units": units, "activation": activation,
              "use_bias": True,
              "kernel_initializer": {"class_name": "VarianceScaling", "config": {
                  "scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}},
              "bias_initializer": {"class_name": "Zeros", "config": {}},
              "kernel_regularizer": None, "bias_regularizer": None,
              "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}
    config.update(extra or {})
    return {"class_name": "Dense", "config": config}


SEQUENTIAL = {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": [
    _dense("dense_1", 3, "relu", {"batch_input_shape": [None, 4], "dtype": "float32"}),
    _dense("dense_2", 2, "softmax")]}}

FUNCTIONAL = {"class_name": "Model", "config": {
    "name": "model_1",
    "layers": [
        {"name": "input_1", "class_name": "InputLayer", "inbound_nodes": [], "config": {
            "batch_input_shape": [None, 4], "dtype": "float32", "sparse": False,
            "name": "input_1"}},
        dict(_dense("dense_1", 3, "relu"), name="dense_1",
             inbound_nodes=[[["input_1", 0, 0, {}]]]),
        dict(_dense("dense_2", 2, "softmax"), name="dense_2",
             inbound_nodes=[[["dense_1", 0, 0, {}]]])],
    "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_2", 0, 0]]}}


def _write_keras2_file(path, config, optimizer_config):
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.2.4"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode()
        f.attrs["training_config"] = json.dumps({
            "optimizer_config": optimizer_config, "loss": "categorical_crossentropy",
            "metrics": ["acc"], "sample_weight_mode": None, "loss_weights": None}).encode()
        weights = f.create_group("model_weights")
        weights.attrs["layer_names"] = [b"dense_1", b"dense_2"]
        weights.attrs["backend"], weights.attrs["keras_version"] = b"tensorflow", b"2.2.4"
        for name, kernel, bias in (("dense_1", KERNEL1, BIAS1), ("dense_2", KERNEL2, BIAS2)):
            group = weights.create_group(name)
            group.attrs["weight_names"] = [f"{name}/kernel:0".encode(), f"{name}/bias:0".encode()]
            group[f"{name}/kernel:0"], group[f"{name}/bias:0"] = kernel, bias


def _expected(x):
    h = np.maximum(x @ KERNEL1 + BIAS1, 0) @ KERNEL2 + BIAS2
    e = np.exp(h - h.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


ADAM = {"class_name": "Adam", "config": {"lr": 0.01, "beta_1": 0.9, "beta_2": 0.999,
                                         "decay": 0.0, "amsgrad": False}}


@pytest.mark.parametrize("config", [SEQUENTIAL, FUNCTIONAL], ids=["sequential", "functional"])
def test_load_model_reads_keras2_whole_model_files(tmp_path, config):
    path = tmp_path / "k2.h5"
    _write_keras2_file(path, config, ADAM)
    model = load_model(path)
    x = rng.normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), _expected(x), rtol=1e-5, atol=1e-6)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)
    assert model.metrics_names == ["loss", "acc"]
    y = np.eye(2, dtype="float32")[rng.integers(0, 2, 5)]
    model.fit(x, y, epochs=1, verbose=0)


def test_keras2_decay_is_refused_with_a_way_out(tmp_path):
    path = tmp_path / "k2.h5"
    _write_keras2_file(path, SEQUENTIAL, {"class_name": "SGD", "config": {"lr": 0.1,
                                                                         "decay": 1e-4}})
    with pytest.raises(ValueError, match="decay.*compile=False"):
        load_model(path)
    x = rng.normal(size=(2, 4)).astype("float32")
    np.testing.assert_allclose(load_model(path, compile=False).predict(x, verbose=0),
                               _expected(x), rtol=1e-5, atol=1e-6)


def test_unknown_layers_and_options_are_named():
    config = json.loads(json.dumps(SEQUENTIAL))
    config["config"]["layers"][1]["class_name"] = "Conv3D"
    with pytest.raises(ValueError, match="Conv3D"):
        model_from_json(json.dumps(config))
    config = json.loads(json.dumps(SEQUENTIAL))
    config["config"]["layers"][1]["config"]["lora_rank"] = 4
    with pytest.raises(ValueError, match="lora_rank=4.*Dense"):
        model_from_json(json.dumps(config))
    with pytest.raises(ValueError, match="not valid JSON"):
        model_from_json("{not json")
