"""A small CNN on scikit-learn's 8x8 digits with the Keras-like API, then its weights saved.

Run: ``python examples/cnn_digits.py`` -> test accuracy >= 0.97 on the fixed 80/20 split,
weights in ``cnn_digits.weights.h5`` (Keras 3's layout).
"""
import os
import sys

# Tiny matrices: one BLAS thread is fastest (more only contend); set before numpy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from layers_on_graph import Input, Sequential, layers, utils  # noqa: E402
from digits_data import load_digits_split  # noqa: E402


def build_model():
    return Sequential([Input(shape=(8, 8, 1)),
                       layers.Conv2D(32, (3, 3), padding="same", activation="relu"),
                       layers.MaxPooling2D((2, 2)),
                       layers.Conv2D(64, (3, 3), padding="same", activation="relu"),
                       layers.MaxPooling2D((2, 2)),
                       layers.Flatten(),
                       layers.Dropout(0.25),
                       layers.Dense(64, activation="relu"),
                       layers.Dense(10, activation="softmax")])


def main(epochs: int = 20, verbose: int = 1, weights_path: str | None = "cnn_digits.weights.h5"):
    utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_digits_split(images=True)
    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.summary()
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_split=0.1,
              verbose=verbose)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
    if weights_path:
        model.save_weights(weights_path)
        print(f"weights saved to {weights_path}")
    return accuracy


if __name__ == "__main__":
    main(weights_path=sys.argv[1] if len(sys.argv) > 1 else "cnn_digits.weights.h5")
