"""One training step of the seed's logistic regression (N=400, 784 features, float64),
compiled by layers-on-graph (numpy and C backends) next to the same step hand-written in numpy.

Run: python benchmarks/logreg_step.py [--repeats N]
The step computes what the seed's ``train`` returns (predictions and per-example
crossentropy) and applies the gradient update of w and b (learning rate 0.1, L2 0.01).
Everything runs on one BLAS thread, so the ratios compare the same work.
"""
import argparse
import os
import sys

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "examples"))

import numpy as np  # noqa: E402
from timing import interleaved_medians  # noqa: E402

from core import config  # noqa: E402
import theano_basics  # noqa: E402


def ours(backend: str):
    config.backend = backend
    (x, y), train, _, w, b = theano_basics.build_logistic_regression()
    y = y.astype("float64")  # the input's dtype, so no conversion is timed
    return (lambda: train(x, y)), w, b, (x, y)


def hand_written(x, y, w0, b0):
    """The same step in plain numpy, written the way one would by hand (stable forms)."""
    state = {"w": w0.copy(), "b": float(b0)}
    n = x.shape[0]

    def step():
        w, b = state["w"], state["b"]
        z = x @ w + b
        prediction = z > 0
        xent = np.logaddexp(0, z) - y * z
        p = np.exp(-np.logaddexp(0, -z))
        gz = (p - y) / n
        state["w"] = w - 0.1 * (x.T @ gz + 0.02 * w)
        state["b"] = b - 0.1 * gz.sum()
        return prediction, xent

    return step, state


def main(repeats: int) -> None:
    rows = {}
    impls = {}
    results = {}
    for backend, label in (("numpy", "layers-on-graph, numpy backend"),
                           ("c", "layers-on-graph, C backend")):
        step, w, b, data = ours(backend)
        w0, b0 = w.get_value(), b.get_value()
        out = step()
        results[label] = (out, w.get_value(), b.get_value())
        w.set_value(w0)
        b.set_value(b0)
        impls[label] = step
    x, y = data
    # its own copy of the data: a step must not find its matrix in cache because the step
    # timed just before it read the same array
    step, state = hand_written(x.copy(), y.copy(), w0, b0)
    out = step()
    results["hand-written numpy"] = (out, state["w"], state["b"])
    impls["hand-written numpy"] = step
    ref = results["hand-written numpy"]
    for label, (out, wv, bv) in results.items():  # the same step, the same numbers
        np.testing.assert_array_equal(out[0], ref[0][0])
        np.testing.assert_allclose(out[1], ref[0][1], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(wv, ref[1], rtol=1e-9)
        np.testing.assert_allclose(bv, ref[2], rtol=1e-9)
    med = interleaved_medians(impls, repeats)
    base = med["hand-written numpy"]
    print(f"Seed logistic regression, one training step (N=400, 784 features, float64), "
          f"median of {repeats} interleaved rounds, 1 BLAS thread\n")
    print("| implementation | us / step | ratio to numpy |")
    print("| --- | ---: | ---: |")
    for label, t in med.items():
        print(f"| {label} | {t * 1e6:.0f} | {t / base:.2f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    main(parser.parse_args().repeats)
