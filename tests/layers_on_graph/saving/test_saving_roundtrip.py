"""Files written here load back here: weights (both layouts), whole models (.keras and .h5),
JSON architectures, training that resumes, loading by name, custom layers."""
import h5py
import numpy as np
import pytest
from saving_models import BUILDERS, randomize, sample_input

from layers_on_graph import Input, Layer, Model, Sequential, layers, load_model, \
    model_from_json, saving
from layers_on_graph.saving.legacy_h5 import load_attributes, save_attributes

MODELS = list(BUILDERS)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("legacy", [False, True], ids=["keras3", "keras2"])
def test_weights_round_trip(tmp_path, name, legacy):
    model, other = BUILDERS[name](), BUILDERS[name]()
    randomize(model)
    path = tmp_path / ("w.h5" if legacy else "w.weights.h5")
    saving.save_weights(model, path, legacy_format=legacy)
    other.load_weights(path)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_whole_model_round_trip(tmp_path, name, suffix):
    model = BUILDERS[name]()
    randomize(model)
    x = sample_input(name)
    path = tmp_path / f"m{suffix}"
    model.save(path)
    loaded = load_model(path)
    assert [type(l).__name__ for l in loaded.layers] == [type(l).__name__ for l in model.layers]
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]
    assert not loaded.compiled
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def _compiled_mlp():
    # No Dropout: its draws would differ between the two models after loading.
    model = Sequential([Input((8,)), layers.Dense(16, activation="relu"),
                        layers.BatchNormalization(), layers.Dense(4, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_training_resumes_where_it_stopped(tmp_path, suffix):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 8)).astype("float32"), rng.integers(0, 4, 40)
    model = _compiled_mlp()
    randomize(model)
    model.fit(x, y, epochs=2, batch_size=10, shuffle=False, verbose=0)
    model.save(tmp_path / f"m{suffix}")
    loaded = load_model(tmp_path / f"m{suffix}")
    assert loaded.compiled and loaded.metrics_names == model.metrics_names
    assert int(loaded.optimizer.iterations.get_value()) == 8
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(a.get_value(), b.get_value())
    h1 = model.fit(x, y, epochs=1, batch_size=10, shuffle=False, verbose=0)
    h2 = loaded.fit(x, y, epochs=1, batch_size=10, shuffle=False, verbose=0)
    assert h1.history["loss"] == pytest.approx(h2.history["loss"], rel=1e-6)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_learning_rate_and_optimizer_config_are_kept(tmp_path):
    from layers_on_graph import optimizers

    model = BUILDERS["mlp"]()
    model.compile(optimizer=optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
                  loss="mse")
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    opt = loaded.optimizer
    assert type(opt).__name__ == "SGD" and opt.nesterov and opt.momentum == 0.9
    assert float(opt.learning_rate) == pytest.approx(0.05)
    assert load_model(tmp_path / "m.keras", compile=False).compiled is False


def _multi_io_model():
    a, b = Input((4,), name="a"), Input((3,), name="b")
    shared = layers.Dense(5, activation="tanh", name="shared")
    ha, hb = shared(layers.Dense(3)(a)), shared(b)
    joined = layers.Concatenate()([ha, hb])
    out1 = layers.Dense(2, name="out1")(joined)
    out2 = layers.Add()([ha, hb])
    return Model([a, b], [out1, out2])


def test_json_round_trip_of_a_functional_model_with_shared_layers():
    model = _multi_io_model()
    randomize(model)
    rebuilt = model_from_json(model.to_json())
    assert [l.name for l in rebuilt.layers] == [l.name for l in model.layers]
    rebuilt.set_weights(model.get_weights())
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(6, 4)).astype("float32"), rng.normal(size=(6, 3)).astype("float32")]
    for p, q in zip(model.predict(x, verbose=0), rebuilt.predict(x, verbose=0)):
        np.testing.assert_array_equal(p, q)


def test_nested_model_round_trip(tmp_path):
    inner = Sequential([Input((4,)), layers.Dense(3, activation="relu")], name="inner")
    inputs = Input((4,))
    model = Model(inputs, layers.Dense(2)(inner(inputs)))
    randomize(model)
    model.save(tmp_path / "nested.keras")
    loaded = load_model(tmp_path / "nested.keras")
    x = sample_input("mlp")[:, :4]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_load_by_name_skips_and_reorders(tmp_path):
    source = Sequential([Input((4,)), layers.Dense(3, name="first"), layers.Dense(2, name="last")])
    randomize(source)
    saving.save_weights(source, tmp_path / "w.h5", legacy_format=True)
    inputs = Input((4,))
    h = layers.Dense(3, name="first")(inputs)
    h = layers.Dense(7, name="extra")(h)
    target = Model(inputs, layers.Dense(2, name="last")(layers.Dense(3, name="fit")(h)))
    extra_before = target.get_layer("extra").get_weights()
    target.load_weights(tmp_path / "w.h5", by_name=True)
    for name in ("first", "last"):
        for a, b in zip(source.get_layer(name).get_weights(), target.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(extra_before, target.get_layer("extra").get_weights()):
        np.testing.assert_array_equal(a, b)


def test_long_attribute_lists_are_split_and_read_back(tmp_path):
    names = [f"layer_{i:04d}_" + "x" * 300 for i in range(400)]  # ~120 KB > one attribute
    with h5py.File(tmp_path / "a.h5", "w") as f:
        save_attributes(f, "layer_names", names)
        assert "layer_names" not in f.attrs and "layer_names0" in f.attrs
        assert "layer_names1" in f.attrs
        assert load_attributes(f, "layer_names") == names


def test_split_layer_names_in_a_weights_file_load(tmp_path):
    model, other = BUILDERS["mlp"](), BUILDERS["mlp"]()
    randomize(model)
    path = tmp_path / "w.h5"
    saving.save_weights(model, path, legacy_format=True)
    with h5py.File(path, "a") as f:  # rewrite layer_names in the split form Keras uses
        names = load_attributes(f, "layer_names")
        del f.attrs["layer_names"]
        f.attrs["layer_names0"] = np.array([n.encode() for n in names[:2]])
        f.attrs["layer_names1"] = np.array([n.encode() for n in names[2:]])
    other.load_weights(path)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)


class Scale(Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, x):
        return x * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_custom_layer_needs_custom_objects(tmp_path):
    model = Sequential([Input((3,)), Scale(3.0), layers.Dense(2)])
    randomize(model)
    model.save(tmp_path / "c.keras")
    with pytest.raises(ValueError, match="Scale.*custom_objects"):
        load_model(tmp_path / "c.keras")
    loaded = load_model(tmp_path / "c.keras", custom_objects={"Scale": Scale})
    assert loaded.layers[0].factor == 3.0
    x = sample_input("mlp")[:, :3]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_subclassed_model_cannot_be_saved_whole_but_its_weights_can(tmp_path):
    class Net(Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)
            self.zz = layers.Dense(2)

        def call(self, x, training=None):
            return self.zz(self.dense(x))

    net = Net()
    net(np.zeros((1, 3), "float32"))
    with pytest.raises(ValueError, match="save_weights"):
        net.save(tmp_path / "n.keras")
    assert not (tmp_path / "n.keras").exists()
    net.save_weights(tmp_path / "n.weights.h5")
    with h5py.File(tmp_path / "n.weights.h5", "r") as f:
        # Keras's walk: sorted attributes, a layer saved at its first path ('dense'), the
        # 'layers' list still counting it (so zz is 'dense_1').
        assert sorted(f["dense/vars"]) == ["0", "1"] and sorted(f["layers"]) == ["dense_1"]
    other = Net()
    other(np.zeros((1, 3), "float32"))
    other.load_weights(tmp_path / "n.weights.h5")
    for a, b in zip(net.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_file_names_are_checked():
    model = BUILDERS["mlp"]()
    with pytest.raises(ValueError, match="weights.h5"):
        model.save_weights("w.h5")
    with pytest.raises(ValueError, match=".keras"):
        model.save("m.weights.h5")
    with pytest.raises(ValueError, match="not"):
        saving.save_weights(model, "w.weights.h5", legacy_format=True)
