"""Compile time with a cold and a warm cache: the seed's logistic regression and the MLP
training function, ours (C backend) next to PyTensor's C backend.

Every measurement runs in a fresh process: "cold" with an empty compile
directory, "warm" with the one the cold run filled. Ours builds the C module
at the first call (lazily); the compile is forced into that first call here,
so "first call" includes it (minus one steady call) and "total" is function() + first
call; "compiler CPU" is the CPU time of the compiler processes (the wall time depends on
how busy the machine is); "total CPU" is this process's CPU time for the same span (what the
total would be on an idle machine, the compiler processes aside).
Run: python benchmarks/compile_cold_warm.py [--threads N]
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from harness import ROOT, THREADS, fmt_time, parse_args

GRAPHS = ("logreg", "mlp")


def worker(impl: str, graph: str) -> dict:
    import resource

    import numpy as np

    if impl == "ours":
        import backends.c
        import core.tensor  # noqa: F401  (imports are not compile time)
    else:
        import pytensor.tensor  # noqa: F401
    if graph == "mlp":  # the initial weights are data, not compile time (for both)
        import mlp_step

        values = mlp_step.init_params()
    t0, c0 = time.perf_counter(), time.process_time()
    if impl == "ours":

        backends.c.LAZY_WORK = 0  # compile at the first call, so that it is measured
        sys.path.insert(0, os.path.join(ROOT, "examples"))
        if graph == "logreg":
            import theano_basics

            (x, y), f, _, _, _ = theano_basics.build_logistic_regression()
            args = (x, y.astype("float64"))
        else:
            f, _ = mlp_step.build_ours(values)
    else:
        import pytensor  # noqa: F401

        if graph == "logreg":
            import logreg

            rng = np.random.default_rng(0)
            x, y = rng.standard_normal((400, 784)), rng.integers(0, 2, 400).astype("float64")
            step = logreg.pytensor_step(x, y, rng.standard_normal(784), 0.0)
            f, args = (lambda *a: step()), ()
        else:
            f = mlp_step.build_pytensor(values)
    if graph == "mlp":
        rng = np.random.default_rng(1)
        args = (rng.normal(size=(128, 784)).astype("float32"),
                rng.integers(0, 10, 128).astype("int32"))
    t1, c1 = time.perf_counter(), time.process_time()
    f(*args)
    t2, c2 = time.perf_counter(), time.process_time()
    f(*args)
    t3, c3 = time.perf_counter(), time.process_time()
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"build": t1 - t0, "first": t2 - t1, "steady": t3 - t2,
            "cpu": (c1 - c0) + max((c2 - c1) - (c3 - c2), 0.0),
            "compiler_cpu": child.ru_utime + child.ru_stime}


def run(impl: str, graph: str, compiledir: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.path.dirname(__file__)]))
    env["LAYERS_ON_GRAPH_FLAGS"] = f"compiledir={compiledir}"
    env["PYTENSOR_FLAGS"] = f"base_compiledir={compiledir}"
    out = subprocess.run([sys.executable, __file__, "--worker", impl, graph, "--threads",
                          str(THREADS)], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    args = parse_args(__doc__)
    impls = ["ours"]
    try:
        import pytensor  # noqa: F401

        impls.append("pytensor")
    except ImportError:
        pass
    print(f"### Compile time, cold and warm cache ({THREADS} thread{'s' if THREADS > 1 else ''})\n")
    print("| graph | implementation | cache | build + function() | first call | total | "
          "total CPU | compiler CPU |")
    print("|---|---|---|---|---|---|---|---|")
    for graph in GRAPHS:
        for impl in impls:
            with tempfile.TemporaryDirectory() as d:
                for cache in ("cold", "warm"):
                    r = run(impl, graph, d)
                    # the first call minus a steady call: what compiling added to it
                    first = max(r["first"] - r["steady"], 0.0)
                    name = "layers-on-graph (C)" if impl == "ours" else "PyTensor (C)"
                    print(f"| {graph} | {name} | {cache} | {fmt_time(r['build'])} | "
                          f"{fmt_time(first)} | {fmt_time(r['build'] + first)} | "
                          f"{fmt_time(r['cpu'])} | {fmt_time(r['compiler_cpu'])} |")
    print()


if __name__ == "__main__":
    if "--worker" in sys.argv:
        i = sys.argv.index("--worker")
        print(json.dumps(worker(sys.argv[i + 1], sys.argv[i + 2])))
    else:
        main()
