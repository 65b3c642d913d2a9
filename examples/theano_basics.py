"""The classic Theano tutorial snippets, with only the import changed.

Run: python examples/theano_basics.py [--steps N]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import core.tensor as T  # noqa: E402
from core import function, pp, shared  # noqa: E402


def basics() -> None:
    """The first three snippets: a sum, a shared accumulator, a derivative."""
    # Sum of two scalars.
    x = T.dscalar("x")
    y = T.dscalar("y")
    f = function([x, y], x + y)
    print("f(2, 3) =", repr(f(2, 3)))

    # A shared accumulator.
    state = shared(0)
    inc = T.iscalar("inc")
    accumulator = function([inc], state, updates=[(state, state + inc)])
    accumulator(1)
    accumulator(300)
    print("accumulator state after adding 1 and 300:", state.get_value())

    # The derivative of x ** 2.
    gy = T.grad(x ** 2, x)
    print("pp(gy) =", pp(gy))
    fgy = function([x], gy)
    print("pp(optimized) =", pp(fgy.maker.fgraph.outputs[0]))
    print("d(x**2)/dx at 4 =", fgy(4))


def build_logistic_regression(n: int = 400, feats: int = 784, seed: int = 0):
    """The seed's logistic regression: data, shared weights and compiled train/predict.

    Returns ``(data, train, predict, w, b)``; ``train(x, y)`` does one gradient
    step (learning rate 0.1, L2 0.01) and returns ``[prediction, xent]``.
    """
    rng = np.random.default_rng(seed)
    data = (rng.standard_normal((n, feats)), rng.integers(0, 2, size=n))
    x, y = T.dmatrix("x"), T.dvector("y")
    w = shared(rng.standard_normal(feats), name="w")
    b = shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = function([x, y], [prediction, xent],
                     updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)], name="train")
    predict = function([x], prediction, name="predict")
    return data, train, predict, w, b


def logistic_regression(steps: int, verbose: bool = True) -> float:
    """Train the seed's logistic regression for ``steps`` steps; returns training accuracy."""
    data, train, predict, _, _ = build_logistic_regression()
    start = time.perf_counter()
    for step in range(steps):
        _, err = train(data[0], data[1])
        if verbose and step % max(1, steps // 10) == 0:
            print(f"step {step:5d}  mean crossentropy {err.mean():.4f}")
    elapsed = time.perf_counter() - start
    accuracy = float(np.mean(predict(data[0]) == data[1]))
    if verbose:
        print(f"{steps} training steps in {elapsed:.2f} s ({1e6 * elapsed / steps:.0f} us/step)")
        print(f"training accuracy: {accuracy:.3f}")
    return accuracy


def main(steps: int) -> float:
    basics()
    return logistic_regression(steps)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=10000)
    main(parser.parse_args().steps)
