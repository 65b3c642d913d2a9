"""MLP 784-512-512-10 training step (batch 128, float32, SGD with momentum 0.9).

Written with the core directly (shared weights, T.grad, updates), next to the
same step in PyTorch eager and PyTensor; each as a share of the measured
float32 GEMM peak of numpy's BLAS. Run: python benchmarks/mlp_step.py [--threads N]
"""
from __future__ import annotations

from harness import CHILD, THREADS, measure, parse_args, peer, table

import numpy as np

import core.tensor as T
from core import function, shared

SIZES = (784, 512, 512, 10)
BATCH, LR, MOMENTUM = 128, 0.01, 0.9


def init_params(seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        params.append((rng.normal(size=(n_in, n_out)) * np.sqrt(2 / n_in)).astype("float32"))
        params.append(np.zeros(n_out, "float32"))
    return params


def build_ours(values, tensor=T, fn=function, shared_=shared):
    x, y = tensor.fmatrix("x"), tensor.ivector("y")
    params = [shared_(v.copy()) for v in values]
    h = x
    for i in range(0, len(params), 2):
        h = tensor.dot(h, params[i]) + params[i + 1]
        h = tensor.nnet.relu(h) if i + 2 < len(params) else tensor.nnet.softmax(h)
    cost = tensor.nnet.categorical_crossentropy(h, y).mean()
    grads = tensor.grad(cost, params)
    updates = []
    for p, g in zip(params, grads):
        v = shared_(np.zeros_like(p.get_value()))
        v_new = MOMENTUM * v - LR * g
        updates += [(v, v_new), (p, p + v_new)]
    f = fn([x, y], cost, updates=updates)
    f.trust_input = True
    return f, params


def build_pytensor(values):
    import pytensor
    import pytensor.tensor as pt

    x, y = pt.fmatrix("x"), pt.ivector("y")
    params = [pytensor.shared(v.copy()) for v in values]
    h = x
    for i in range(0, len(params), 2):
        h = pt.dot(h, params[i]) + params[i + 1]
        h = pt.maximum(h, 0) if i + 2 < len(params) else pt.special.softmax(h, axis=-1)
    cost = -pt.mean(pt.log(h[pt.arange(y.shape[0]), y]))
    grads = pytensor.grad(cost, params)
    updates = []
    for p, g in zip(params, grads):
        v = pytensor.shared(np.zeros_like(p.get_value()))
        v_new = np.float32(MOMENTUM) * v - np.float32(LR) * g
        updates += [(v, v_new), (p, p + v_new)]
    f = pytensor.function([x, y], cost, updates=updates)
    f.trust_input = True
    return f


def build_torch(torch, values):
    layers = []
    for i in range(0, len(values), 2):
        lin = torch.nn.Linear(*values[i].shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(values[i].T.copy()))
            lin.bias.copy_(torch.from_numpy(values[i + 1]))
        layers += [lin, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def main() -> None:
    args = parse_args(__doc__)
    repeats = 5 if args.quick else 21
    rng = np.random.default_rng(1)
    xv = rng.normal(size=(BATCH, SIZES[0])).astype("float32")
    yv = rng.integers(0, 10, size=BATCH).astype("int32")
    values = init_params()

    def make_ours():
        ours, _ = build_ours(values)
        return lambda: ours(xv, yv)

    factories = {"layers-on-graph (C)": make_ours}
    torch, pyt = peer("torch"), peer("pytensor")
    if torch is not None:
        def make_torch():
            tstep = build_torch(torch, values)
            tx, ty = torch.from_numpy(xv), torch.from_numpy(yv.astype("int64"))
            return lambda: tstep(tx, ty).detach()

        factories["PyTorch eager"] = make_torch
    if pyt is not None:
        def make_pytensor():
            pf = build_pytensor(values)
            return lambda: pf(xv, yv)

        factories["PyTensor (C)"] = make_pytensor
    gemm = "GEMM 1024^3 (numpy's BLAS)"

    def make_gemm():
        a = np.random.default_rng(0).random((1024, 1024)).astype("float32")
        out = np.empty_like(a)
        return lambda: np.dot(a, a, out=out)

    factories[gemm] = make_gemm
    # The same loss from the same start, checked before timing. With several threads the
    # parent stays idle (the 1-thread run checks the same code): thread pools a parent
    # started (BLAS, PyTorch) would compete with the child being timed.
    if CHILD is None and THREADS == 1:
        first = {name: float(make()()) for name, make in factories.items() if name != gemm}
        ref = first["layers-on-graph (C)"]
        for name, loss in first.items():
            assert abs(loss - ref) < 1e-3 * max(1, abs(ref)), (name, loss, ref)
    med = measure(factories, repeats, min_round=0.05)
    peak = 2 * 1024 ** 3 / med.pop(gemm)
    mats = list(zip(SIZES[:-1], SIZES[1:]))
    flops = 2 * BATCH * (sum(3 * a * b for a, b in mats) - SIZES[0] * SIZES[1])
    print(f"float32 GEMM peak of numpy's BLAS (1024^3): {peak / 1e9:.1f} GFLOP/s; "
          f"one step is {flops / 1e9:.3f} GFLOP\n")
    rows = [(name, t, f"{100 * flops / t / peak:.0f}%" if t else "n/a") for name, t in med.items()]
    print(table("MLP 784-512-512-10 training step, batch 128, float32, SGD momentum", rows,
                "layers-on-graph (C)", ("share of GEMM peak",)))


if __name__ == "__main__":
    main()
