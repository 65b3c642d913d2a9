"""A custom layer written with core.tensor ops, trained like a built-in one.

``RBF`` maps each input to Gaussian radial-basis activations around trainable centres:
``exp(-gamma * ||x - c_j||^2)``. It uses ``add_weight`` and plain symbolic ops, and the
model around it compiles, fits and saves like any other.

Run: ``python examples/custom_layer.py``
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import core.tensor as T  # noqa: E402
from layers_on_graph import (Input, Layer, Sequential, initializers, layers,  # noqa: E402
                             optimizers, utils)


class RBF(Layer):
    """Radial-basis features: (batch, d) -> (batch, units)."""

    def __init__(self, units: int, gamma: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.units, self.gamma = units, gamma

    def build(self, input_shape):
        self.centres = self.add_weight(shape=(self.units, input_shape[-1]),
                                       initializer=initializers.RandomUniform(-1.0, 2.0),
                                       name="centres")

    def call(self, inputs):
        # ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2, with broadcasting over the batch
        x2 = T.sum(T.sqr(inputs), axis=1, keepdims=True)
        c2 = T.sum(T.sqr(self.centres), axis=1).dimshuffle("x", 0)
        d2 = x2 - 2.0 * T.dot(inputs, self.centres.T) + c2
        return T.exp(-self.gamma * d2)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "gamma": self.gamma}


def main(epochs: int = 40) -> float:
    utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    # two interleaved moons: not linearly separable, easy for RBF features
    t = rng.uniform(0, np.pi, size=600)
    label = rng.integers(0, 2, size=600)
    x = np.stack([np.cos(t) + label, np.sin(t) * (1 - 2 * label) + 0.5 * label], 1)
    x = (x + rng.normal(scale=0.1, size=x.shape)).astype("float32")
    model = Sequential([Input(shape=(2,)), RBF(24, gamma=2.0),
                        layers.Dense(2, activation="softmax")])
    model.compile(optimizer=optimizers.Adam(0.02), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.summary()
    model.fit(x[:500], label[:500], epochs=epochs, batch_size=32, verbose=2)
    _, accuracy = model.evaluate(x[500:], label[500:], verbose=0)
    print(f"held-out accuracy {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    main()
