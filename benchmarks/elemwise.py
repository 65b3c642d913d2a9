"""Fused elementwise expressions against numpy, numexpr, PyTorch and PyTensor.

``a + a**10`` (memory-bound: compared with the copy bound, the time to read
the input and write the output at the measured copy bandwidth) and
``exp(-x)*sin(x) + tanh(x)*x`` (transcendental-bound), on 1e6 and 1e7
elements, float32 and float64. Run: python benchmarks/elemwise.py [--threads N]
"""
from __future__ import annotations

from harness import THREADS, copy_bandwidth, interleaved_medians, parse_args, peer, table

import numpy as np

import core.tensor as T
from core import function

EXPRS = {
    "a + a**10": (lambda a: a + a ** 10, "a + a**10"),
    "exp(-x)*sin(x) + tanh(x)*x": (lambda x: T.exp(-x) * T.sin(x) + T.tanh(x) * x,
                                   "exp(-a)*sin(a) + tanh(a)*a"),
}


def numpy_fn(name, a):
    if name == "a + a**10":
        return lambda: a + a ** 10
    return lambda: np.exp(-a) * np.sin(a) + np.tanh(a) * a


def torch_fn(torch, name, a):
    t = torch.from_numpy(a)
    if name == "a + a**10":
        return lambda: t + t ** 10
    return lambda: torch.exp(-t) * torch.sin(t) + torch.tanh(t) * t


def pytensor_fn(name, dtype, a):
    import pytensor
    import pytensor.tensor as pt

    x = pt.vector("x", dtype=dtype)
    expr = x + x ** 10 if name == "a + a**10" else pt.exp(-x) * pt.sin(x) + pt.tanh(x) * x
    f = pytensor.function([x], expr)
    f.trust_input = True
    return lambda: f(a)


def main() -> None:
    args = parse_args(__doc__)
    repeats = 3 if args.quick else 9
    torch, ne, pyt = peer("torch"), peer("numexpr"), peer("pytensor")
    bandwidth = copy_bandwidth()
    print(f"Measured copy bandwidth: {bandwidth / 1e9:.1f} GB/s (read + write)\n")
    for name, (build, ne_expr) in EXPRS.items():
        for dtype in ("float32", "float64"):
            for n in (10 ** 6, 10 ** 7):
                a = np.random.default_rng(0).uniform(-1, 1, n).astype(dtype)
                x = T.vector("x", dtype=dtype)
                ours = function([x], build(x), trust_input=True)
                fns = {"layers-on-graph (C)": lambda: ours(a), "numpy": numpy_fn(name, a)}
                if ne is not None:
                    fns["numexpr"] = lambda: ne.evaluate(ne_expr, local_dict={"a": a})
                if torch is not None:
                    fns["PyTorch"] = torch_fn(torch, name, a)
                if pyt is not None:
                    fns["PyTensor (C)"] = pytensor_fn(name, dtype, a)
                ref = fns["numpy"]()
                for label, fn in fns.items():
                    got = np.asarray(fn())
                    np.testing.assert_allclose(got, ref, rtol=1e-4 if dtype == "float32" else 1e-10,
                                               atol=1e-5, err_msg=label)
                med = interleaved_medians(fns, repeats, min_round=0.05)
                bound = 2 * n * np.dtype(dtype).itemsize / bandwidth
                rows = [(label, t, f"{t / bound:.2f}x") for label, t in med.items()]
                rows.append(("copy bound", bound, "1.00x"))
                print(table(f"`{name}`, {n:.0e} elements, {dtype}", rows, "layers-on-graph (C)",
                            ("time / copy bound",)))


if __name__ == "__main__":
    main()
