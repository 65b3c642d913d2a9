"""A recurrent net written with ``scan`` learns to count the ones in a binary sequence.

Each input is a sequence of 0/1 bits; the target is how many bits are 1 (a class
among 0..length). A tanh RNN reads the bits one step at a time; a softmax on its
last hidden state predicts the count. Trained with Adam written as shared updates.

Run: python examples/custom_rnn.py [--epochs N] [--length L]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import core.tensor as T  # noqa: E402
from core import function, scan, shared  # noqa: E402


def make_data(rng, n, length):
    bits = rng.integers(0, 2, size=(length, n, 1)).astype("float64")  # time-major
    return bits, bits.sum(axis=(0, 2)).astype("int64")


def adam(params, grads, lr=0.01, b1=0.9, b2=0.999, eps=1e-8):
    t = shared(np.asarray(0.0), name="t")
    t_new = t + 1
    updates = [(t, t_new)]
    for p, g in zip(params, grads):
        m = shared(np.zeros_like(p.get_value()))
        v = shared(np.zeros_like(p.get_value()))
        m_new = b1 * m + (1 - b1) * g
        v_new = b2 * v + (1 - b2) * T.sqr(g)
        step = lr * T.sqrt(1 - b2 ** t_new) / (1 - b1 ** t_new)
        updates += [(m, m_new), (v, v_new), (p, p - step * m_new / (T.sqrt(v_new) + eps))]
    return updates


def main(epochs: int, length: int, hidden: int = 24, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    n_classes = length + 1
    W = shared(rng.normal(0, 0.5, size=(1, hidden)), name="W")
    U = shared(rng.normal(0, 1.0 / np.sqrt(hidden), size=(hidden, hidden)), name="U")
    b = shared(np.zeros(hidden), name="b")
    V = shared(rng.normal(0, 0.1, size=(hidden, n_classes)), name="V")
    c = shared(np.zeros(n_classes), name="c")
    params = [W, U, b, V, c]

    x = T.tensor3("x")        # (time, batch, 1)
    y = T.lvector("y")        # (batch,)
    h0 = T.zeros((x.shape[1], hidden))

    def step(x_t, h_tm1, W, U, b):
        return T.tanh(T.dot(x_t, W) + T.dot(h_tm1, U) + b)

    h, _ = scan(step, sequences=x, outputs_info=h0, non_sequences=[W, U, b])
    probs = T.nnet.softmax(T.dot(h[-1], V) + c)
    loss = T.nnet.categorical_crossentropy(probs, y).mean()
    accuracy = T.mean(T.eq(T.argmax(probs, axis=1), y))
    train = function([x, y], loss, updates=adam(params, T.grad(loss, params)))
    evaluate = function([x, y], accuracy)

    x_train, y_train = make_data(rng, 2000, length)
    x_test, y_test = make_data(rng, 500, length)
    batch = 50
    start = time.perf_counter()
    for epoch in range(epochs):
        order = rng.permutation(x_train.shape[1])
        losses = [train(x_train[:, idx], y_train[idx])
                  for idx in np.array_split(order, x_train.shape[1] // batch)]
        print(f"epoch {epoch + 1:2d}  loss {np.mean(losses):.4f}  "
              f"test accuracy {float(evaluate(x_test, y_test)):.3f}")
    acc = float(evaluate(x_test, y_test))
    print(f"counting the ones in {length}-bit sequences: test accuracy {acc:.3f} "
          f"({time.perf_counter() - start:.1f} s of training)")
    return acc


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--length", type=int, default=10)
    args = parser.parse_args()
    main(args.epochs, args.length)
