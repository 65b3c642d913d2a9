"""Regenerate the Keras 3 fixture files under tests/data/ (needs keras 3 with torch).

    KERAS_BACKEND=torch python3 tests/make_keras_fixtures.py

For each model (MLP, CNN with BatchNormalization, LSTM, GRU, and "seq": Embedding,
Bidirectional LSTM, TimeDistributed Dense, LayerNormalization, SimpleRNN) it sets every
weight (moving statistics included) to seeded random values and writes, with
real Keras's own writers:

- ``keras_<name>.weights.h5``   Keras 3 ``model.save_weights``
- ``keras_<name>_legacy.h5``    Keras 2 weights layout (Keras's legacy writer)
- ``keras_<name>_model.h5``     legacy whole-model ``model.save('x.h5')``, compiled
- ``keras_expected.h5``         per model: input ``x`` and Keras's prediction ``y``
- ``keras_resume.keras``        a model after one Adam step (see ``make_resume``)
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras.src.legacy.saving import legacy_h5_format  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def mlp():
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dropout(0.1),
                             keras.layers.Dense(4, activation="softmax")], name="mlp"), (5, 8)


def cnn():
    inputs = keras.Input((8, 8, 2))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(6, (3, 2), strides=(1, 2))(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(3)(x)
    return keras.Model(inputs, outputs, name="cnn"), (4, 8, 8, 2)


def lstm():
    return keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(6, return_sequences=True),
                             keras.layers.LSTM(4), keras.layers.Dense(2)], name="lstm"), (3, 5, 3)


def gru():
    return keras.Sequential([keras.Input((5, 3)), keras.layers.GRU(6), keras.layers.Dense(2)],
                            name="gru"), (3, 5, 3)


def seq():
    return keras.Sequential([
        keras.Input((5,), dtype="int32"), keras.layers.Embedding(10, 4),
        keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True)),
        keras.layers.TimeDistributed(keras.layers.Dense(2)), keras.layers.LayerNormalization(),
        keras.layers.SimpleRNN(3), keras.layers.Dense(2)], name="seq"), (3, 5)


MODELS = {"mlp": mlp, "cnn": cnn, "lstm": lstm, "gru": gru, "seq": seq}
# Models whose input is integer ids below this bound.
INT_INPUTS = {"seq": 10}


def make(name: str, expected: h5py.File) -> None:
    keras.utils.set_random_seed(0)
    model, x_shape = MODELS[name]()
    rng = np.random.default_rng(1)
    values = []
    for w in model.weights:
        v = rng.normal(0, 0.5, w.shape).astype("float32")
        if "variance" in w.path:
            v = np.abs(v) + 0.5
        values.append(v)
    model.set_weights(values)
    model.compile(optimizer="adam", loss="mse")
    if name in INT_INPUTS:
        x = rng.integers(0, INT_INPUTS[name], x_shape).astype("int32")
    else:
        x = rng.normal(0, 1, x_shape).astype("float32")
    y = np.asarray(model.predict(x, verbose=0))
    model.save_weights(os.path.join(DATA, f"keras_{name}.weights.h5"))
    with h5py.File(os.path.join(DATA, f"keras_{name}_legacy.h5"), "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    model.save(os.path.join(DATA, f"keras_{name}_model.h5"))
    group = expected.create_group(name)
    group["x"], group["y"] = x, y


def make_resume(expected: h5py.File) -> None:
    """A model trained one Adam step, saved as .keras; then Keras's weights after a second
    step on the same batch, so a test can resume training from Keras's optimizer state."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")], name="resume")
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, (6, 4)).astype("float32")
    y = rng.integers(0, 3, 6).astype("int64")
    model.train_on_batch(x, y)
    model.save(os.path.join(DATA, "keras_resume.keras"))
    model.train_on_batch(x, y)
    group = expected.create_group("resume")
    group["x"], group["y"] = x, y
    for i, w in enumerate(model.get_weights()):
        group[f"after_step2/{i}"] = w


def main(names: list[str]) -> None:
    os.makedirs(DATA, exist_ok=True)
    with h5py.File(os.path.join(DATA, "keras_expected.h5"), "w") as expected:
        expected.attrs["keras_version"] = keras.__version__
        for name in names:
            make(name, expected)
            print(f"wrote keras_{name}*.h5")
        make_resume(expected)
        print("wrote keras_resume.keras")


if __name__ == "__main__":
    main(sys.argv[1:] or list(MODELS))
