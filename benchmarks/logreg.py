"""The seed's logistic regression training step (N=400, 784 features, float64).

Ours (the seed's code, compiled by ``function``) next to the same step written
by hand in numpy, in PyTorch and in PyTensor. Run: python benchmarks/logreg.py [--threads N]
"""
from __future__ import annotations

import os
import sys

from harness import CHILD, ROOT, THREADS, measure, parse_args, peer, table

import numpy as np

sys.path.insert(0, os.path.join(ROOT, "examples"))
import theano_basics  # noqa: E402

N, FEATS, LR, L2 = 400, 784, 0.1, 0.01


def hand_written(x, y, w0, b0):
    state = {"w": w0.copy(), "b": float(b0)}

    def step():  # written the way one would by hand, in the stable forms
        w, b = state["w"], state["b"]
        z = x @ w + b
        xent = np.logaddexp(0, z) - y * z
        p = np.exp(-np.logaddexp(0, -z))
        gz = (p - y) / N
        state["w"] = w - LR * (x.T @ gz + 2 * L2 * w)
        state["b"] = b - LR * gz.sum()
        return z > 0, xent

    return step


def torch_step(torch, x, y, w0, b0):
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    w = torch.from_numpy(w0.copy()).requires_grad_()
    b = torch.tensor(float(b0), dtype=torch.float64, requires_grad=True)

    def step():
        p = torch.sigmoid(tx @ w + b)
        xent = -ty * torch.log(p) - (1 - ty) * torch.log(1 - p)
        cost = xent.mean() + L2 * (w ** 2).sum()
        gw, gb = torch.autograd.grad(cost, [w, b])
        with torch.no_grad():
            w.sub_(LR * gw)
            b.sub_(LR * gb)
        return p > 0.5, xent

    return step


def pytensor_step(x, y, w0, b0):
    import pytensor
    import pytensor.tensor as pt

    tx, ty = pt.dmatrix("x"), pt.dvector("y")
    w, b = pytensor.shared(w0.copy()), pytensor.shared(float(b0))
    p_1 = 1 / (1 + pt.exp(-pt.dot(tx, w) - b))
    xent = -ty * pt.log(p_1) - (1 - ty) * pt.log(1 - p_1)
    cost = xent.mean() + L2 * (w ** 2).sum()
    gw, gb = pytensor.grad(cost, [w, b])
    f = pytensor.function([tx, ty], [p_1 > 0.5, xent], updates=[(w, w - LR * gw), (b, b - LR * gb)])
    f.trust_input = True
    return lambda: f(x, y)


def main() -> None:
    args = parse_args(__doc__)
    repeats = 21 if args.quick else 101
    (x, y), train, _, w, b = theano_basics.build_logistic_regression()
    y = y.astype("float64")
    w0, b0 = w.get_value(), b.get_value()
    train.trust_input = True

    def make_ours():
        for _ in range(100):  # steady state: the C module compiles once enough work was seen
            train(x, y)
        return lambda: train(x, y)

    factories = {"layers-on-graph (C)": lambda: (lambda: train(x, y)),
                 "hand-written numpy": lambda: hand_written(x, y, w0, b0)}
    torch, pyt = peer("torch"), peer("pytensor")
    if torch is not None:
        factories["PyTorch"] = lambda: torch_step(torch, x, y, w0, b0)
    if pyt is not None:
        factories["PyTensor (C)"] = lambda: pytensor_step(x, y, w0, b0)
    # The same first step from the same start, checked before timing (at 1 thread: with more,
    # the parent stays idle so that its thread pools do not compete with the timed child).
    if CHILD is None and THREADS == 1:
        ref = hand_written(x, y, w0, b0)()[1]
        for name, make in factories.items():
            if name == "hand-written numpy":
                continue
            got = make()()[1]
            got = got.detach().numpy() if hasattr(got, "detach") else np.asarray(got)
            finite = np.isfinite(got)  # the naive forms (PyTorch, the seed's) overflow to inf
            assert finite.mean() > 0.5, name
            rtol = 5e-2 if name == "PyTorch" else 1e-6  # the naive form loses digits near p = 1
            np.testing.assert_allclose(got[finite], ref[finite], rtol=rtol, atol=1e-9, err_msg=name)
    factories["layers-on-graph (C)"] = make_ours
    med = measure(factories, repeats, min_round=0.02)
    rows = list(med.items())
    print(table("Seed logistic regression, one training step, N=400, 784 features, float64",
                rows, "layers-on-graph (C)"))


if __name__ == "__main__":
    main()
