"""The fixture models of tests/make_keras_fixtures.py, built with this library."""
import os

import h5py
import numpy as np

from layers_on_graph import Input, Model, Sequential, layers

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "data")


def mlp():
    return Sequential([Input((8,)), layers.Dense(16, activation="relu"), layers.Dropout(0.1),
                       layers.Dense(4, activation="softmax")])


def cnn():
    inputs = Input((8, 8, 2))
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(6, (3, 2), strides=(1, 2))(x)
    x = layers.Flatten()(x)
    return Model(inputs, layers.Dense(3)(x))


def lstm():
    return Sequential([Input((5, 3)), layers.LSTM(6, return_sequences=True), layers.LSTM(4),
                       layers.Dense(2)])


def gru():
    return Sequential([Input((5, 3)), layers.GRU(6), layers.Dense(2)])


def seq():
    return Sequential([Input((5,), dtype="int32"), layers.Embedding(10, 4),
                       layers.Bidirectional(layers.LSTM(3, return_sequences=True)),
                       layers.TimeDistributed(layers.Dense(2)), layers.LayerNormalization(),
                       layers.SimpleRNN(3), layers.Dense(2)])


BUILDERS = {"mlp": mlp, "cnn": cnn, "lstm": lstm, "gru": gru, "seq": seq}
INPUT_SHAPES = {"mlp": (5, 8), "cnn": (4, 8, 8, 2), "lstm": (3, 5, 3), "gru": (3, 5, 3),
                "seq": (3, 5)}


# file kinds -> a file name of that kind
KINDS = {"keras3": "w.weights.h5", "keras2": "w.h5", "keras": "m.keras", "model_h5": "m.h5"}


def save_as(model, path, kind: str) -> None:
    """Save ``model`` as a file of ``kind`` (a key of ``KINDS``)."""
    from layers_on_graph import saving

    if kind == "keras3":
        saving.save_weights(model, path)
    elif kind == "keras2":
        saving.save_weights(model, path, legacy_format=True)
    else:
        model.save(path)


def fixture(name: str) -> str:
    return os.path.join(DATA, name)


def expected(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Keras's input and prediction for the fixture model ``name``."""
    with h5py.File(fixture("keras_expected.h5"), "r") as f:
        return f[name]["x"][()], f[name]["y"][()]


def randomize(model, seed: int = 0) -> None:
    """Seeded random weights (positive moving variances) so that every weight matters."""
    rng = np.random.default_rng(seed)
    values = []
    for w in model.weights:
        v = rng.normal(0, 0.5, w.get_value(borrow=True).shape).astype("float32")
        values.append(np.abs(v) + 0.5 if "variance" in w.name else v)
    model.set_weights(values)


def sample_input(name: str, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if name == "seq":
        return rng.integers(0, 10, INPUT_SHAPES[name]).astype("int32")
    return rng.normal(0, 1, INPUT_SHAPES[name]).astype("float32")
