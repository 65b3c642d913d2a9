"""A scan-based tanh RNN (sequence 50, batch 64, input and hidden 128): forward, and
forward + backward through time, next to hand-written numpy and PyTorch (CPU, 1 thread).

Run: python benchmarks/scan_rnn.py [--repeats N]
PyTorch is optional (``pip install torch==2.13.0``); its rows are skipped without it.
Everything runs on one thread (BLAS and torch), so the ratios compare the same work.
"""
import argparse
import os
import sys

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from timing import interleaved_medians  # noqa: E402

import core.tensor as T  # noqa: E402
from core import function, scan, shared  # noqa: E402

SEQ, BATCH, N_IN, HIDDEN = 50, 64, 128, 128


def ours(data, params, backend: str):
    from core import config

    config.backend = backend
    Wv, Uv, bv = params
    W, U, b = shared(Wv, name="W"), shared(Uv, name="U"), shared(bv, name="b")
    x = T.tensor3("x")
    h0 = T.zeros((x.shape[1], HIDDEN))
    h, _ = scan(lambda x_t, h_tm1, W, U, b: T.tanh(T.dot(x_t, W) + T.dot(h_tm1, U) + b),
                sequences=x, outputs_info=h0, non_sequences=[W, U, b])
    cost = h.sum()
    fwd = function([x], cost)
    bwd = function([x], [cost] + T.grad(cost, [W, U, b]))
    return (lambda: fwd(data)), (lambda: bwd(data)), bwd(data)


def plain_numpy(data, params):
    W, U, b = params

    def forward():
        h = np.zeros((BATCH, HIDDEN))
        hs = []
        for x_t in data:
            h = np.tanh(x_t @ W + h @ U + b)
            hs.append(h)
        return hs

    def backward():
        hs = forward()
        dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b)
        dh = np.zeros((BATCH, HIDDEN))
        for t in range(SEQ - 1, -1, -1):
            dz = (dh + 1.0) * (1 - hs[t] ** 2)
            h_prev = hs[t - 1] if t else np.zeros((BATCH, HIDDEN))
            dW += data[t].T @ dz
            dU += h_prev.T @ dz
            db += dz.sum(axis=0)
            dh = dz @ U.T
        return sum(h.sum() for h in hs), dW, dU, db

    return forward, backward, backward()


def pytorch(data, params):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    x = torch.from_numpy(data)
    W, U, b = (torch.tensor(p, requires_grad=True) for p in params)

    def forward():
        h = torch.zeros(BATCH, HIDDEN, dtype=x.dtype)
        total = 0.0
        for t in range(SEQ):
            h = torch.tanh(x[t] @ W + h @ U + b)
            total = total + h.sum()
        return total

    def fwd():
        with torch.no_grad():
            forward()

    def bwd():
        for p in (W, U, b):
            p.grad = None
        cost = forward()
        cost.backward()
        return cost

    cost = bwd()
    return (fwd, bwd, (float(cost.detach()), W.grad.numpy().copy(), U.grad.numpy().copy(),
                       b.grad.numpy().copy()), torch.__version__)


def main(repeats: int) -> None:
    rng = np.random.default_rng(0)
    data = rng.normal(size=(SEQ, BATCH, N_IN))
    params = (rng.normal(size=(N_IN, HIDDEN)) * 0.05, rng.normal(size=(HIDDEN, HIDDEN)) * 0.05,
              np.zeros(HIDDEN))
    impls = {}
    f, b, ours_res = ours(data, params, "numpy")
    impls["layers-on-graph scan (numpy backend)"] = (f, b)
    f, b, c_res = ours(data, params, "c")
    impls["layers-on-graph scan (C backend)"] = (f, b)
    for got, want in zip(c_res, ours_res):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    f, b, ref = plain_numpy(data, params)
    impls["hand-written numpy loop"] = (f, b)
    for got, want in zip(ours_res, ref):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    torch_res = pytorch(data, params)
    if torch_res is not None:
        f, b, tref, version = torch_res
        impls[f"PyTorch {version} eager loop, 1 thread"] = (f, b)
        for got, want in zip(ours_res, tref):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    fns = {}
    for name, (f, b) in impls.items():
        fns[(name, "f")] = f
        fns[(name, "b")] = b
    med = interleaved_medians(fns, repeats)
    rows = {name: (med[(name, "f")], med[(name, "b")]) for name in impls}
    base_f, base_b = rows["layers-on-graph scan (numpy backend)"]
    print(f"tanh RNN, sequence {SEQ}, batch {BATCH}, input {N_IN}, hidden {HIDDEN}, float64, "
          f"median of {repeats} interleaved rounds")
    print(f"{'implementation':44s} {'forward ms':>11s} {'fwd+bwd ms':>11s} {'fwd ratio':>10s} "
          f"{'fwd+bwd ratio':>14s}")
    for name, (f, b) in rows.items():
        print(f"{name:44s} {f * 1e3:11.2f} {b * 1e3:11.2f} {f / base_f:10.2f} {b / base_b:14.2f}")
    print("(ratio = time / layers-on-graph time; all results checked equal)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    main(parser.parse_args().repeats)
