"""Run every benchmark at 1 thread and at 2 threads; print one markdown table per workload.

Each workload runs in its own process, so that the thread settings (BLAS,
OpenMP with OMP_WAIT_POLICY=PASSIVE, numexpr, PyTorch) are fixed before any
library starts its threads. Run: python benchmarks/run_all.py [--quick] [--only NAME ...]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# (script, thread counts): the workloads at 1 and 2 threads; compile times once.
WORKLOADS = [
    ("logreg.py", (1, 2)),
    ("elemwise.py", (1, 2)),
    ("relu_mask.py", (1, 2)),
    ("mlp_step.py", (1, 2)),
    ("cnn_cifar.py", (1, 2)),
    ("depthwise_conv.py", (1, 2)),
    ("call_overhead.py", (1,)),
    ("compile_cold_warm.py", (1,)),
]
# Every other script in benchmarks/ (other issues' workloads): run once each, as they set
# their own thread counts.
OTHERS = sorted(f for f in os.listdir(HERE) if f.endswith(".py") and f not in
                dict(WORKLOADS) and f not in ("harness.py", "run_all.py", "__init__.py"))


def run(script: str, threads: int, quick: bool) -> int:
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               NUMEXPR_NUM_THREADS=str(threads))
    args = [sys.executable, os.path.join(HERE, script)]
    if script in dict(WORKLOADS):
        args += ["--threads", str(threads)] + (["--quick"] if quick else [])
    print(f"<!-- {script}, {threads} thread(s) -->", flush=True)
    start = time.perf_counter()
    proc = subprocess.run(args, env=env)
    print(f"<!-- {script} took {time.perf_counter() - start:.0f} s, exit {proc.returncode} -->\n",
          flush=True)
    return proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats per measurement")
    parser.add_argument("--only", nargs="*", help="run only these scripts (e.g. elemwise.py)")
    parser.add_argument("--no-others", action="store_true", help="skip other issues' benchmarks")
    args = parser.parse_args()
    failures = 0
    for script, thread_counts in WORKLOADS:
        if args.only and script not in args.only:
            continue
        for threads in thread_counts:
            failures += run(script, threads, args.quick) != 0
    if not args.no_others:
        for script in OTHERS:
            if (not args.only or script in args.only) and os.path.exists(os.path.join(HERE, script)):
                failures += run(script, 1, args.quick) != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
