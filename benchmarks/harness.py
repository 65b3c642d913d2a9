"""Shared benchmark helpers: thread settings, interleaved timing, peers, markdown tables.

Import this module first: it fixes the thread count of every library (BLAS,
OpenMP, numexpr, PyTorch) from ``--threads`` before numpy is imported, and
sets ``OMP_WAIT_POLICY=PASSIVE`` so spinning OpenMP workers do not distort
their neighbours.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def threads_from_argv(default: int = 1) -> int:
    """Read ``--threads N`` and export it to every threading library (before their import)."""
    n = default
    if "--threads" in sys.argv:
        n = int(sys.argv[sys.argv.index("--threads") + 1])
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMEXPR_NUM_THREADS", "NUMEXPR_MAX_THREADS"):
        os.environ[var] = str(n)
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    return n


THREADS = threads_from_argv()

import numpy as np  # noqa: E402

from timing import interleaved_medians  # noqa: E402,F401  (re-exported)


def parse_args(doc: str, **extra) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    for name, default in extra.items():
        parser.add_argument(f"--{name}", type=type(default), default=default)
    return parser.parse_args()


def peer(name: str):
    """Import a peer library configured for THREADS, or None when it is not installed.

    A child timing one implementation imports only the peer it times.
    """
    child = os.environ.get("LAYERS_BENCH_CHILD")
    if child is not None and name not in child.lower():
        return None
    try:
        if name == "torch":
            import torch

            torch.set_num_threads(THREADS)
            return torch
        if name == "numexpr":
            import numexpr

            numexpr.set_num_threads(THREADS)
            return numexpr
        if name == "pytensor":
            import pytensor

            return pytensor
    except Exception:  # an absent or broken peer is reported as such, not fatal
        return None
    raise ValueError(name)




CHILD = os.environ.get("LAYERS_BENCH_CHILD")  # set in a child that times one implementation


def measure(factories: dict, repeats: int, min_round: float = 0.0, warmup: int = 1,
            clock=time.perf_counter) -> dict:
    """Median seconds per call of each implementation; ``factories[name]()`` builds its callable.

    At 1 thread all run in this process, interleaved round after round. With
    more threads each runs alone in a child process (the same script, the same
    thread settings): thread pools of different libraries in one process
    (PyTorch's OpenMP, numpy's OpenBLAS, ours) fight over the cores and distort
    each other, which is not what a user running one of them sees.
    """
    if CHILD is not None:
        fn = factories[CHILD]()
        result = interleaved_medians({CHILD: fn}, repeats, min_round, clock, warmup)
        print("LAYERS_BENCH_RESULT " + json.dumps(result), flush=True)
        sys.exit(0)
    if THREADS == 1:
        return interleaved_medians({name: make() for name, make in factories.items()},
                                   repeats, min_round, clock, warmup)
    out = {}
    for name in factories:
        env = dict(os.environ, LAYERS_BENCH_CHILD=name)
        proc = subprocess.run([sys.executable] + sys.argv, env=env, capture_output=True, text=True)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("LAYERS_BENCH_RESULT ")]
        if proc.returncode != 0 or not lines:
            print(f"<!-- {name} failed: {proc.stderr[-500:]} -->")
            out[name] = None
            continue
        out.update(json.loads(lines[-1].split(" ", 1)[1]))
    return out


def copy_bandwidth(nbytes: int = 1 << 28) -> float:
    """Measured memory bandwidth in bytes/s of a large copy (read + write counted)."""
    src = np.ones(nbytes // 8)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(15):  # the best of many: a busy neighbour only ever slows a copy down
        t0 = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t0)
    return 2 * nbytes / best


def gemm_peak(dtype="float32", n: int = 1024, clock=time.perf_counter) -> float:
    """Measured FLOP/s of numpy's BLAS on an n x n x n product (``clock``: wall or CPU time)."""
    a = np.random.default_rng(0).random((n, n)).astype(dtype)
    b = a.copy()
    out = np.empty_like(a)
    np.dot(a, b, out=out)
    best = float("inf")
    for _ in range(5):
        t0 = clock()
        np.dot(a, b, out=out)
        best = min(best, clock() - t0)
    return 2 * n ** 3 / best


def mpiexec(caller: str) -> str:
    """The ``mpiexec`` beside this Python (pip's mpich) or on the PATH; SystemExit naming
    ``caller`` when there is none."""
    import shutil

    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    found = beside if os.access(beside, os.X_OK) else shutil.which("mpiexec")
    if found is None:
        raise SystemExit(f"{caller}: no mpiexec found (pip install mpi4py mpich)")
    return found


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def table(title: str, rows: list[tuple], ours: str, extra_headers: tuple = ()) -> str:
    """A markdown table: name, time, time/ours (>1: slower than ours), extra columns."""
    ref = next((t for name, t, *_ in rows if name == ours), None)
    head = ["implementation", "time", "ratio to ours"] + list(extra_headers)
    lines = [f"### {title} ({THREADS} thread{'s' if THREADS > 1 else ''})", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, t, *extra in rows:
        if t is None:
            lines.append("| " + " | ".join([name, "n/a", "n/a"] + ["n/a"] * len(extra_headers)) + " |")
            continue
        ratio = f"{t / ref:.2f}" if ref else "n/a"
        cells = [name, fmt_time(t), ratio] + [str(e) for e in extra]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
