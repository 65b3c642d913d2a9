"""Debugging a graph and a model: NanGuardMode, intermediate values, NaN hunting in fit.

1. ``NanGuardMode``: a compiled function that stops at the first node producing NaN,
   inf or a huge value, naming the op, its inputs' ranges and your source line.
2. ``f.intermediates(...)``: the value of every variable between a function's inputs
   and outputs (or only the named ones), as you built them.
3. The Keras idiom ``Model(model.inputs, [l.output for l in model.layers])``: every
   layer's output for a batch.
4. ``fit(..., debug_nan=True)`` (or ``callbacks.TerminateOnNaN()``): when the loss turns
   NaN, the model keeps the weights of the last good step and the error names the first
   layer and line that produced the NaN.

Run: ``python examples/debugging.py``
"""
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import core.tensor as T  # noqa: E402
from core import NanGuardMode, function  # noqa: E402
from core.compile.nanguard import NanGuardError  # noqa: E402
from layers_on_graph import Input, Model, Sequential, layers, optimizers  # noqa: E402


def nan_guard() -> str:
    x = T.dvector("x")
    scaled = T.log(x) * 2  # log of a negative number is NaN: the guard stops here
    f = function([x], scaled.sum(), mode=NanGuardMode(nan_is_error=True, inf_is_error=True,
                                                      big_is_error=True))
    print("f([1, 2]) =", f(np.array([1.0, 2.0])))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # numpy's own "invalid value"
            f(np.array([1.0, -2.0]))
    except NanGuardError as err:
        print(err)
        return str(err)
    raise AssertionError("NanGuardMode let a NaN through")


def intermediates() -> dict:
    x = T.dmatrix("x")
    hidden = T.tanh(T.dot(x, np.array([[1.0, -1.0], [0.5, 2.0]])))
    hidden.name = "hidden"
    out = T.nnet.softmax(hidden)
    out.name = "probabilities"
    f = function([x], out.max(axis=1))
    values = f.intermediates(np.array([[0.1, 0.2]]), names=["hidden", "probabilities"])
    for var, value in values.items():
        print(f"{var.name} = {value}")
    return values


def every_layer_output() -> list:
    model = Sequential([Input((4,)), layers.Dense(3, activation="relu"), layers.Dropout(0.5),
                        layers.Dense(2, activation="softmax")])
    probe = Model(model.inputs, [layer.output for layer in model.layers])
    outs = probe.predict(np.ones((2, 4), "float32"), verbose=0)
    for layer, value in zip(model.layers, outs):
        print(f"{layer.name}: shape {value.shape}")
    return outs


def nan_hunting_in_fit() -> str:
    model = Sequential([Input((3,)), layers.Dense(2, kernel_initializer="ones"),
                        layers.Lambda(T.sqrt, output_shape=(2,), name="root"),
                        layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(0.01), loss="mse")
    x = np.ones((8, 3), "float32")
    x[4:] = -1.0  # the second batch takes square roots of negative numbers
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # numpy's own "invalid value"
            model.fit(x, np.ones((8, 1), "float32"), batch_size=4, shuffle=False, verbose=0,
                      debug_nan=True)
    except FloatingPointError as err:
        print(err)
        print("weights still finite:", all(np.isfinite(w).all() for w in model.get_weights()))
        return str(err)
    raise AssertionError("fit(debug_nan=True) did not report the NaN")


def main() -> dict:
    print("== NanGuardMode ==")
    guard = nan_guard()
    print("\n== intermediates ==")
    values = intermediates()
    print("\n== every layer's output ==")
    outs = every_layer_output()
    print("\n== NaN hunting in fit ==")
    report = nan_hunting_in_fit()
    return {"guard": guard, "intermediates": values, "layer_outputs": outs, "report": report}


if __name__ == "__main__":
    main()
