"""An Embedding + LSTM classifier on generated token sequences of varying length.

Task: sequences of tokens 1..9 (length 5 to 30, padded with 0 at the end), labelled 1 when
token 7 occurs at least 3 times. ``Embedding(mask_zero=True)`` masks the padding, so the
LSTM skips it. Run: ``python examples/lstm_text.py`` -> test accuracy >= 0.95.
"""
import os
import sys

# The products of a small recurrent net are tiny: several BLAS threads only wait on each other
# (4x slower on a busy 2-core machine). Set before numpy loads BLAS; override from the shell.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from layers_on_graph import Sequential, layers, utils  # noqa: E402

VOCAB, MAX_LEN, TOKEN, THRESHOLD = 10, 30, 7, 3


def make_data(n: int, rng: np.random.Generator):
    """``n`` padded sequences and their labels (balanced around the threshold)."""
    x = np.zeros((n, MAX_LEN), dtype="int64")
    y = np.zeros(n, dtype="int64")
    for i in range(n):
        length = int(rng.integers(5, MAX_LEN + 1))
        others = rng.integers(1, VOCAB - 1, size=length)
        others[others >= TOKEN] += 1  # tokens other than TOKEN
        count = int(rng.integers(0, min(length, 2 * THRESHOLD) + 1))
        others[rng.choice(length, size=count, replace=False)] = TOKEN
        x[i, :length] = others
        y[i] = int(count >= THRESHOLD)
    return x, y


def main(epochs: int = 12, verbose: int = 2) -> float:
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x_train, y_train = make_data(4000, rng)
    x_test, y_test = make_data(1000, rng)
    model = Sequential([layers.Input(shape=(MAX_LEN,), dtype="int64"),
                        layers.Embedding(VOCAB, 8, mask_zero=True),
                        layers.LSTM(24),
                        layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.summary()
    model.fit(x_train, y_train.astype("float32"), batch_size=64, epochs=epochs,
              validation_split=0.1, verbose=verbose)
    loss, accuracy = model.evaluate(x_test, y_test.astype("float32"), verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
    return float(accuracy)


if __name__ == "__main__":
    main()
