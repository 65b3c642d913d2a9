"""Load weights saved by real Keras 3 into a model built here, and predict what Keras did.

The files under tests/data were written by Keras 3.15.1 (tests/make_keras_fixtures.py):
a small CNN with BatchNormalization, in three layouts. This script builds the same
architecture with this library, loads each file, and compares its predictions to the
ones Keras computed; then it loads the whole model (architecture included) from
Keras's legacy ``.h5`` without writing the architecture by hand.

Run: ``python examples/load_keras_weights.py``
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import h5py  # noqa: E402
import numpy as np  # noqa: E402

from layers_on_graph import Input, Model, layers, load_model  # noqa: E402

DATA = os.path.join(ROOT, "tests", "data")


def build_cnn() -> Model:
    """The architecture Keras saved, written with this library's layers."""
    inputs = Input((8, 8, 2))
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(6, (3, 2), strides=(1, 2))(x)
    x = layers.Flatten()(x)
    return Model(inputs, layers.Dense(3)(x))


def main() -> float:
    with h5py.File(os.path.join(DATA, "keras_expected.h5"), "r") as f:
        x, keras_prediction = f["cnn/x"][()], f["cnn/y"][()]
    worst = 0.0
    for name in ("keras_cnn.weights.h5", "keras_cnn_legacy.h5", "keras_cnn_model.h5"):
        model = build_cnn()
        model.load_weights(os.path.join(DATA, name))
        diff = float(np.abs(model.predict(x, verbose=0) - keras_prediction).max())
        worst = max(worst, diff)
        print(f"{name:24s} max |ours - keras| = {diff:.2e}")
    model = load_model(os.path.join(DATA, "keras_cnn_model.h5"))
    diff = float(np.abs(model.predict(x, verbose=0) - keras_prediction).max())
    worst = max(worst, diff)
    print(f"{'load_model(.h5)':24s} max |ours - keras| = {diff:.2e}")
    model.summary()
    return worst


if __name__ == "__main__":
    assert main() < 1e-5
