"""Sequential, functional and subclassed models; custom layers; summary; weights files."""
import h5py
import numpy as np
import pytest

import core.tensor as T
from layers_on_graph import Input, Layer, Model, Sequential, layers, utils

rng = np.random.default_rng(0)


def test_sequential_forms_build_the_same_model():
    utils.set_random_seed(0)
    a = Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    b = Sequential([Input(shape=(3,)), layers.Dense(4), layers.Dense(2)])
    c = Sequential()
    c.add(layers.Dense(4))
    c.add(layers.Dense(2))
    assert not c.built
    c.build((None, 3))
    for m in (a, b, c):
        assert [w.get_value().shape for w in m.weights] == [(3, 4), (4,), (4, 2), (2,)]
        assert [type(l).__name__ for l in m.layers] == ["Dense", "Dense"]
    b.set_weights(a.get_weights())
    x = rng.normal(size=(5, 3)).astype("float32")
    np.testing.assert_allclose(a.predict(x, verbose=0), b.predict(x, verbose=0))


def test_sequential_built_from_the_data_on_first_fit():
    model = Sequential([layers.Dense(3, activation="relu"), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(rng.normal(size=(8, 5)), rng.normal(size=(8, 1)), epochs=1, verbose=0)
    assert model.layers[0].kernel.get_value().shape == (5, 3)


def test_sequential_add_rejects_a_bad_layer_and_stays_usable():
    model = Sequential([Input(shape=(4,)), layers.Dense(3)])
    with pytest.raises(ValueError):
        model.add(layers.Reshape((5,)))
    assert len(model.layers) == 1
    model.pop()
    assert model.layers == []


def test_functional_multi_input_multi_output_and_shared_layer():
    a, b = Input(shape=(4,), name="a"), Input(shape=(4,), name="b")
    shared = layers.Dense(3, name="shared")
    ha, hb = shared(a), shared(b)
    merged = layers.Concatenate()([ha, hb])
    out1 = layers.Dense(2, activation="softmax", name="cls")(merged)
    out2 = layers.Dense(1, name="reg")(layers.Add()([ha, hb]))
    model = Model([a, b], [out1, out2])
    assert [l.name for l in model.layers][:2] == ["a", "b"]
    assert len(model.weights) == 6  # the shared Dense counts once
    xa, xb = rng.normal(size=(2, 6, 4)).astype("float32")
    p1, p2 = model.predict([xa, xb], verbose=0)
    k, bias = shared.get_weights()
    ha_np, hb_np = xa @ k + bias, xb @ k + bias
    kr, br = model.get_layer("reg").get_weights()
    np.testing.assert_allclose(p2, (ha_np + hb_np) @ kr + br, rtol=1e-5, atol=1e-6)
    assert p1.shape == (6, 2)
    model.compile(optimizer="adam", loss=["sparse_categorical_crossentropy", "mse"],
                  loss_weights=[1.0, 0.5], metrics={"cls": ["accuracy"]})
    y1, y2 = rng.integers(0, 2, 6), rng.normal(size=(6, 1))
    hist = model.fit({"a": xa, "b": xb}, [y1, y2], epochs=2, verbose=0)
    assert set(hist.history) == {"loss", "cls_loss", "reg_loss", "cls_accuracy"}
    logs = model.evaluate([xa, xb], [y1, y2], verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], logs["cls_loss"] + 0.5 * logs["reg_loss"],
                               rtol=1e-5)


def test_nested_model_as_a_layer():
    inner = Sequential([Input(shape=(3,)), layers.Dense(4, activation="relu")])
    x = Input(shape=(3,))
    model = Model(x, layers.Dense(1)(inner(x)))
    assert len(model.weights) == 4
    model.compile(optimizer="sgd", loss="mse")
    model.fit(rng.normal(size=(8, 3)), rng.normal(size=(8, 1)), epochs=1, verbose=0)


def test_functional_layers_in_keras_order():
    # the order Keras 3 gives (by depth from the outputs, then first visit): it fixes
    # model.weights and the layer groups of weight files
    a, b = Input(shape=(4,), name="a"), Input(shape=(3,), name="b")
    h1 = layers.Dense(5, name="d1")(a)
    h2 = layers.Dense(5, name="d2")(b)
    s = layers.Add(name="add")([layers.Dense(5, name="d3")(h1), h2])
    c = layers.Concatenate(name="cat")([s, h1])
    model = Model([a, b], [layers.Dense(2, name="o1")(c), layers.Dense(1, name="o2")(h2)])
    assert [l.name for l in model.layers] == ["a", "d1", "b", "d3", "d2", "add", "cat", "o1",
                                              "o2"]


def test_model_errors():
    with pytest.raises(ValueError, match="Input"):
        Model(T.fmatrix("x"), layers.Dense(2)(Input(shape=(3,))))
    a, b = Input(shape=(3,)), Input(shape=(3,))
    with pytest.raises(ValueError, match="not in the model's inputs"):
        Model(a, layers.Add()([a, b]))


class Scale(Layer):
    """A custom layer written with core.tensor ops."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
        self.b = self.add_weight(shape=(), initializer="zeros", name="b",
                                 regularizer="l2")

    def call(self, inputs):
        return T.tanh(inputs * self.w + self.b)


def test_custom_layer_trains_like_a_builtin():
    model = Sequential([Input(shape=(2,)), Scale(), layers.Dense(1)])
    assert [w.name.split("/")[-1] for w in model.weights[:2]] == ["w", "b"]
    assert len(model.losses) == 1
    model.compile(optimizer="adam", loss="mse")
    x = rng.normal(size=(64, 2)).astype("float32")
    y = x.sum(1, keepdims=True)
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=30, verbose=0)
    assert model.evaluate(x, y, verbose=0) < first


class TwoDense(Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(8, activation="relu")
        self.out = layers.Dense(1)

    def call(self, x):
        return self.out(self.hidden(x))


def test_subclassed_model():
    model = TwoDense()
    model.compile(optimizer="adam", loss="mse")
    x = rng.normal(size=(16, 3)).astype("float32")
    model.fit(x, x[:, :1], epochs=2, verbose=0)
    assert len(model.weights) == 4
    assert model.predict(x, verbose=0).shape == (16, 1)


def test_summary(capsys):
    model = Sequential([Input(shape=(8, 8, 1)), layers.Conv2D(4, 3), layers.Flatten(),
                        layers.BatchNormalization(), layers.Dense(2)], name="demo")
    model.summary()
    text = capsys.readouterr().out
    assert 'Model: "demo"' in text and "(None, 6, 6, 4)" in text and "(None, 144)" in text
    total = 40 + 144 * 4 + 290
    assert f"Total params: {total:,}" in text
    assert f"Trainable params: {total - 288:,}" in text and "Non-trainable params: 288" in text


def test_save_and_load_weights_keras3_layout(tmp_path):
    model = Sequential([Input(shape=(4,)), layers.Dense(3), layers.BatchNormalization(),
                        layers.Dense(3), layers.Dense(2)])
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        assert sorted(f["layers"]) == ["batch_normalization", "dense", "dense_1", "dense_2"]
        assert sorted(f["layers/batch_normalization/vars"]) == ["0", "1", "2", "3"]
        np.testing.assert_array_equal(f["layers/dense_1/vars/0"],
                                      model.layers[2].kernel.get_value())
        assert "vars" in f
    original = model.get_weights()
    other = Sequential([Input(shape=(4,)), layers.Dense(3), layers.BatchNormalization(),
                        layers.Dense(3), layers.Dense(2)])
    other.load_weights(path)
    for a, b in zip(original, other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_load_weights_mismatch_changes_nothing(tmp_path):
    path = tmp_path / "m.weights.h5"
    Sequential([Input(shape=(4,)), layers.Dense(3), layers.Dense(5)]).save_weights(path)
    model = Sequential([Input(shape=(4,)), layers.Dense(3), layers.Dense(2)])
    before = model.get_weights()
    with pytest.raises(ValueError, match="shape"):
        model.load_weights(path)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="weights.h5"):
        model.save_weights(tmp_path / "m.h5")


def test_set_weights_checks_everything_first():
    layer = layers.Dense(2)
    layer(np.zeros((1, 3), "float32"))
    before = layer.get_weights()
    with pytest.raises(ValueError, match="shape"):
        layer.set_weights([np.ones((3, 2)), np.ones(5)])
    np.testing.assert_array_equal(layer.get_weights()[0], before[0])
    with pytest.raises(ValueError, match="expected 2"):
        layer.set_weights([np.ones((3, 2))])


def test_trainable_flag():
    model = Sequential([Input(shape=(3,)), layers.Dense(2), layers.Dense(1)])
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    model.compile(optimizer="sgd", loss="mse")
    frozen = model.layers[0].get_weights()
    model.fit(rng.normal(size=(8, 3)), rng.normal(size=(8, 1)), epochs=1, verbose=0)
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], frozen[0])


class Penalized(Layer):
    """Adds a loss computed from its inputs, as Keras's add_loss."""

    def call(self, inputs):
        self.add_loss(0.5 * T.mean(T.sqr(inputs)))
        return inputs


def test_add_loss_and_activity_regularizer_enter_the_loss():
    x = np.full((4, 2), 2.0, "float32")
    model = Sequential([Input(shape=(2,)), Penalized()])
    model.compile(optimizer="sgd", loss="mse")
    assert model.evaluate(x, x, verbose=0) == pytest.approx(0.5 * 4.0)
    model = Sequential([Input(shape=(2,)), layers.Dense(2, kernel_initializer="ones",
                                                        activity_regularizer="l1")])
    model.compile(optimizer="sgd", loss="mse")
    out = model.predict(x, verbose=0)
    assert model.evaluate(x, out, verbose=0) == pytest.approx(0.01 * np.abs(out).sum() / 4,
                                                              rel=1e-5)  # per batch sample
    with pytest.raises(ValueError, match="scalar"):
        Penalized().add_loss(T.fvector("v"))
