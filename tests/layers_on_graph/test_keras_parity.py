"""Parity with real Keras 3 (torch backend) where it is installed (the optional bench extra):
same weights in the same order give the same predictions, losses and one-step updates."""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", minversion="3.0")
if keras.backend.backend() != "torch":
    pytest.skip("keras runs on another backend in this process", allow_module_level=True)

import layers_on_graph as lg  # noqa: E402

rng = np.random.default_rng(0)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(autouse=True)
def seeded_keras():
    """Keras draws the twins' initial weights: seeded before each test (other test modules
    draw from Keras's generator too), so every run compares the same models. RMSprop and
    Adam scale gradients near zero up to full steps, so an unlucky draw could turn float32
    rounding into a visible difference now and then."""
    keras.utils.set_random_seed(0)


def twin_models(lib):
    L = lib.layers
    return lib.Sequential([
        (keras.Input if lib is keras else lg.Input)(shape=(9, 9, 2)),
        L.Conv2D(4, (3, 3), strides=(2, 2), padding="same", activation="relu"),
        L.BatchNormalization(),
        L.Conv2D(3, (2, 2), padding="same"),
        L.MaxPooling2D((2, 2), padding="same"),
        L.AveragePooling2D((1, 2)),
        L.Flatten(),
        L.Dense(5, activation="tanh"),
        L.LayerNormalization(),
        L.Dense(3, activation="softmax")])


def copy_weights(src, dst):
    src_w = [np.asarray(w) for w in src.get_weights()]
    assert [w.shape for w in src_w] == [w.shape for w in dst.get_weights()]
    dst.set_weights(src_w)


def test_forward_values_match_keras():
    k, ours = twin_models(keras), twin_models(lg)
    weights = [rng.normal(size=w.shape).astype("float32") * 0.5 for w in k.get_weights()]
    bn_var = 5  # moving_variance of the BatchNormalization
    weights[bn_var] = np.abs(weights[bn_var]) + 0.5
    k.set_weights(weights)
    copy_weights(k, ours)
    x = rng.normal(size=(6, 9, 9, 2)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), k.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("make_opt", [
    lambda lib: lib.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    lambda lib: lib.optimizers.Adam(0.01),
    lambda lib: lib.optimizers.RMSprop(0.01, clipnorm=0.5),
    lambda lib: lib.optimizers.AdamW(0.01, weight_decay=0.1),
    lambda lib: lib.optimizers.Adagrad(0.1)])
def test_training_steps_match_keras(make_opt):
    k, ours = twin_models(keras), twin_models(lg)
    copy_weights(k, ours)
    for model, lib in ((k, keras), (ours, lg)):
        model.compile(optimizer=make_opt(lib), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    x = rng.normal(size=(8, 9, 9, 2)).astype("float32")
    y = rng.integers(0, 3, 8)
    for _ in range(2):
        lk = k.train_on_batch(x, y)
        lo = ours.train_on_batch(x, y)
    np.testing.assert_allclose(lo[0], float(lk[0]), rtol=1e-4)
    for a, b in zip(ours.get_weights(), k.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=2e-4, atol=2e-5)
    ek = k.evaluate(x, y, verbose=0)
    eo = ours.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(eo, ek, rtol=1e-4)


@pytest.mark.parametrize("loss", ["mse", "mae", "binary_crossentropy", "categorical_crossentropy",
                                  "kl_divergence", "huber"])
def test_losses_match_keras(loss):
    y_true = rng.uniform(size=(5, 4)).astype("float32")
    y_pred = rng.uniform(size=(5, 4)).astype("float32")
    y_pred[0, 0] = 0.0
    want = float(keras.losses.get(loss)(y_true, y_pred).mean())
    cls = type(lg.losses.get(loss))
    got = float(cls()(y_true, y_pred))
    assert got == pytest.approx(want, rel=1e-4)


def test_fit_with_validation_split_and_weights_matches_keras():
    k = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, activation="softmax")])
    ours = lg.Sequential([lg.Input(shape=(4,)), lg.layers.Dense(3, activation="softmax")])
    copy_weights(k, ours)
    x = rng.normal(size=(20, 4)).astype("float32")
    y = rng.integers(0, 3, 20)
    sw = rng.uniform(size=20).astype("float32")
    hist = {}
    for name, model, lib in (("k", k, keras), ("o", ours, lg)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        hist[name] = model.fit(x, y, batch_size=6, epochs=2, shuffle=False, sample_weight=sw,
                               validation_split=0.25, verbose=0).history
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(hist["o"][key], hist["k"][key], rtol=1e-4)


def _branching(lib):
    L = lib.layers
    a, b = lib.Input(shape=(4,), name="a"), lib.Input(shape=(4,), name="b")
    shared = L.Dense(4, name="shared")
    x = shared(a)
    y = shared(L.Dense(4, name="pre")(b))
    z = shared(x)
    m = L.Add(name="add")([y, z, L.Dense(4, name="side")(a)])
    cat = L.Concatenate(name="cat")([m, x])
    return lib.Model([b, a], [L.Dense(1, name="out")(cat), L.Dense(2, name="out2")(x)])


def test_functional_layer_order_matches_keras():
    ours, k = _branching(lg), _branching(keras)
    assert [l.name for l in ours.layers] == [l.name for l in k.layers]
    assert [w.get_value().shape for w in ours.weights] == [tuple(w.shape) for w in k.weights]


def test_regularizers_match_keras():
    def build(lib):
        return lib.Sequential([lib.Input(shape=(3,)), lib.layers.Dense(
            4, kernel_regularizer=lib.regularizers.L1L2(0.01, 0.02),
            activity_regularizer=lib.regularizers.L2(0.05)), lib.layers.Dense(2)])

    k, ours = build(keras), build(lg)
    copy_weights(k, ours)
    x = rng.normal(size=(5, 3)).astype("float32")
    y = rng.normal(size=(5, 2)).astype("float32")
    for model in (k, ours):
        model.compile(optimizer="sgd", loss="mse")
    assert ours.evaluate(x, y, verbose=0) == pytest.approx(k.evaluate(x, y, verbose=0),
                                                            rel=1e-5)


def _two_input_model(lib):
    L = lib.layers
    ids = lib.Input(shape=(5,), name="ids")
    img = lib.Input(shape=(6, 6, 2), name="img")
    e = L.Flatten()(L.Embedding(7, 3)(ids))
    c = L.GlobalMaxPooling2D()(L.Conv2D(4, 3, activation="relu")(img))
    g = L.GlobalAveragePooling2D()(L.Conv2D(2, 1)(img))
    h = L.Concatenate()([e, c, g])
    h = L.Permute((2, 1))(L.Reshape((3, 7))(L.Dense(21, activation="elu")(h)))
    out = L.Dense(1, activation="sigmoid", name="out")(L.Flatten()(h))
    return lib.Model([ids, img], out)


def test_two_input_functional_training_matches_keras():
    k, ours = _two_input_model(keras), _two_input_model(lg)
    assert [type(l).__name__ for l in ours.layers] == [type(l).__name__ for l in k.layers]
    copy_weights(k, ours)
    ids = rng.integers(0, 7, size=(6, 5)).astype("float32")
    img = rng.normal(size=(6, 6, 6, 2)).astype("float32")
    y = rng.integers(0, 2, size=(6, 1)).astype("float32")
    for model, lib in ((k, keras), (ours, lg)):
        model.compile(optimizer=lib.optimizers.Adam(0.01), loss="binary_crossentropy",
                      metrics=["accuracy"])
        for _ in range(2):
            model.train_on_batch([ids, img], y)
    for a, b in zip(ours.get_weights(), k.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(ours.evaluate([ids, img], y, verbose=0),
                               k.evaluate([ids, img], y, verbose=0), rtol=1e-4)
