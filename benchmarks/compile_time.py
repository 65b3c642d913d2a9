"""Compile time: build + compile (FAST_RUN) the seed's logistic regression and a 3-layer MLP.

Run: python benchmarks/compile_time.py [--repeat 5] [--no-pytensor]

For each graph prints the time to build it (forward, gradients, updates), the
time ``function`` takes (rewrites + linking, on the numpy backend, and on the
default backend, whose first build may call the C compiler), and the node
counts before and after the rewrites. When ``import pytensor`` works, the same
graphs are built and compiled by PyTensor in fresh subprocesses: once with an
empty compile cache (cold) and once more with that cache filled (warm).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

N, FEATS, HIDDEN, CLASSES = 400, 784, (256, 128), 10

# The same two graphs, written once for both libraries (``T``, ``function``, ``shared``).
GRAPHS = r'''
def logistic_regression(T, function, shared, **kw):
    rng = np.random.default_rng(0)
    x, y = T.dmatrix("x"), T.dvector("y")
    w = shared(rng.standard_normal(FEATS), name="w")
    b = shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    outs, ups = [prediction, xent], [(w, w - 0.1 * gw), (b, b - 0.1 * gb)]
    t0 = time.perf_counter()
    f = function([x, y], outs, updates=ups, **kw)
    return f, time.perf_counter() - t0, outs + [e for _, e in ups], [x, y]


def mlp(T, function, shared, **kw):
    rng = np.random.default_rng(0)
    x, y = T.dmatrix("x"), T.ivector("y")
    sizes = (FEATS,) + HIDDEN + (CLASSES,)
    params, h = [], x
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = shared(rng.standard_normal((n_in, n_out)) * 0.05, name=f"w{k}")
        b = shared(np.zeros(n_out), name=f"b{k}")
        params += [w, b]
        z = T.dot(h, w) + b
        h = T.maximum(z, 0) if k < len(sizes) - 2 else T.nnet.softmax(z)
    cost = T.nnet.categorical_crossentropy(h, y).mean()
    grads = T.grad(cost, params)
    ups = []
    for p, g in zip(params, grads):
        v = shared(np.zeros(p.get_value().shape), name="v_" + p.name)
        v_new = 0.9 * v - 0.01 * g
        ups += [(v, v_new), (p, p + v_new)]
    outs = [cost, T.argmax(h, axis=1)]
    t0 = time.perf_counter()
    f = function([x, y], outs, updates=ups, **kw)
    return f, time.perf_counter() - t0, outs + [e for _, e in ups], [x, y]
'''

PYTENSOR_CHILD = r'''
import json, sys, time
import numpy as np
t_import = time.perf_counter()
import pytensor
import pytensor.tensor as T
from pytensor import function, shared
T.nnet = __import__("types").SimpleNamespace(
    softmax=lambda z: pytensor.tensor.special.softmax(z, axis=-1),
    categorical_crossentropy=lambda p, y: -T.log(p[T.arange(y.shape[0]), y]))
t_import = time.perf_counter() - t_import
FEATS, HIDDEN, CLASSES = %d, %r, %d
''' + GRAPHS + r'''
out = {"import_s": t_import}
linker = sys.argv[1]
kw = {} if linker == "default" else {"mode": pytensor.compile.mode.Mode(linker=linker,
                                                                        optimizer="fast_run")}
for name in ("logistic_regression", "mlp"):
    t0 = time.perf_counter()
    f, t_compile, _, _ = globals()[name](T, function, shared, **kw)
    out[name] = {"total_s": time.perf_counter() - t0, "compile_s": t_compile,
                 "nodes_after": len(f.maker.fgraph.apply_nodes)}
print(json.dumps(out))
'''


def _ours(repeat: int) -> dict:
    import core.tensor as T
    from core import function, shared
    from core.config import config
    from core.graph.utils import toposort

    ns = {"np": np, "time": time, "FEATS": FEATS, "HIDDEN": HIDDEN, "CLASSES": CLASSES}
    exec(GRAPHS, ns)
    results = {}
    for name in ("logistic_regression", "mlp"):
        row = {}
        for backend in ("numpy", config.backend):
            old = config.backend
            config.backend = backend
            try:
                totals, compiles = [], []
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    f, t_compile, exprs, ins = ns[name](T, function, shared)
                    totals.append(time.perf_counter() - t0)
                    compiles.append(t_compile)
            finally:
                config.backend = old
            row[backend] = {"first_total_s": totals[0], "best_total_s": min(totals),
                            "best_compile_s": min(compiles)}
        row["nodes_before"] = len(toposort(exprs, stop=ins))
        row["nodes_after"] = len(f.maker.fgraph.apply_nodes)
        results[name] = row
    return results


def _per_call(repeat: int) -> dict:
    """Microseconds per call of each train function, FAST_RUN vs FAST_COMPILE (what rewrites buy)."""
    import core.tensor as T
    from core import function, shared
    from core.config import config

    ns = {"np": np, "time": time, "FEATS": FEATS, "HIDDEN": HIDDEN, "CLASSES": CLASSES}
    exec(GRAPHS, ns)
    rng = np.random.default_rng(1)
    data = {"logistic_regression": (rng.standard_normal((N, FEATS)),
                                    rng.integers(0, 2, N).astype("float64")),
            "mlp": (rng.standard_normal((128, FEATS)),
                    rng.integers(0, CLASSES, 128).astype("int32"))}
    out = {}
    for name in ("logistic_regression", "mlp"):
        for backend in ("numpy", config.backend):
            fns = {}
            for mode in ("FAST_RUN", "FAST_COMPILE"):
                old = config.backend
                config.backend = backend
                try:
                    fns[mode] = ns[name](T, function, shared, mode=mode)[0]
                finally:
                    config.backend = old
                fns[mode](*data[name])
            best = dict.fromkeys(fns, float("inf"))
            for _ in range(repeat):  # alternate the two, so that machine load hits both alike
                for mode, f in fns.items():
                    t0 = time.perf_counter()
                    for _ in range(10):
                        f(*data[name])
                    best[mode] = min(best[mode], (time.perf_counter() - t0) / 10)
            for mode in fns:
                out[(name, backend, mode)] = best[mode] * 1e6
    return out


def _pytensor() -> dict | None:
    try:
        import pytensor  # noqa: F401
    except ImportError:
        return None
    child = PYTENSOR_CHILD % (FEATS, HIDDEN, CLASSES)
    out = {}
    for linker in ("default", "cvm"):  # PyTensor 3's default is numba; cvm is its C linker
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, PYTENSOR_FLAGS=f"base_compiledir={cache}")
            for label in ("cold", "warm"):
                proc = subprocess.run([sys.executable, "-c", child, linker], env=env,
                                      capture_output=True, text=True, timeout=1800)
                if proc.returncode != 0:
                    print(proc.stderr[-2000:], file=sys.stderr)
                    return None
                out[(linker, label)] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def main(repeat: int, with_pytensor: bool) -> None:
    from core.config import config

    default = config.backend
    ours = _ours(repeat)
    print(f"layers-on-graph, build + compile (FAST_RUN), best of {repeat}; first run in brackets")
    print(f"{'graph':22s} {'numpy backend':>22s} {'backend ' + default:>22s} {'nodes before':>13s} "
          f"{'after':>6s}")
    for name, row in ours.items():
        cells = [f"{row[b]['best_total_s'] * 1e3:8.1f} ms [{row[b]['first_total_s'] * 1e3:7.1f}]"
                 for b in ("numpy", default)]
        print(f"{name:22s} {cells[0]:>22s} {cells[1]:>22s} {row['nodes_before']:13d} "
              f"{row['nodes_after']:6d}")
    calls = _per_call(repeat)
    print(f"\nper call of the train function (us, best of {repeat} x 10 calls, modes alternated; "
          f"logistic regression on {N} rows, MLP on 128)")
    for name in ("logistic_regression", "mlp"):
        for backend in ("numpy", default):
            run, comp = calls[(name, backend, "FAST_RUN")], calls[(name, backend, "FAST_COMPILE")]
            print(f"{name:22s} backend {backend:6s} FAST_RUN {run:9.0f}  FAST_COMPILE {comp:9.0f}  "
                  f"ratio {comp / run:5.2f}x")
    pt = _pytensor() if with_pytensor else None
    if pt is None:
        print("\nPyTensor: not measured (not installed, or --no-pytensor)")
        return
    import pytensor

    print(f"\nPyTensor {pytensor.__version__}, same graphs, build + compile in a fresh process "
          f"(import excluded); cold: empty compile cache, warm: the cache the cold run filled")
    for linker in ("default", "cvm"):
        for name in ("logistic_regression", "mlp"):
            cold = pt[(linker, "cold")][name]["total_s"]
            warm = pt[(linker, "warm")][name]["total_s"]
            ours_best = ours[name]["numpy"]["best_total_s"]
            print(f"{linker:8s} {name:20s} cold {cold * 1e3:8.1f} ms  warm {warm * 1e3:7.1f} ms  "
                  f"nodes after {pt[(linker, 'warm')][name]['nodes_after']:3d}  "
                  f"cold/ours {cold / ours_best:6.1f}x  warm/ours {warm / ours_best:5.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-pytensor", action="store_true")
    args = parser.parse_args()
    main(args.repeat, not args.no_pytensor)
