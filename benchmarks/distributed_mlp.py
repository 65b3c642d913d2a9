"""Data-parallel fit over MPI: 2 processes x 1 thread against 1 process x 1 thread.

The 784-512-512-10 ReLU MLP (float32, SGD with momentum 0.9, global batch 256) trains
one epoch on 60000 generated samples; each run is a fresh ``mpiexec`` launch (or a
plain process for 1), warmed up with a few steps (C compilation) that are not timed.
Rows: samples per second, time per step, and the time per step spent in the gradient
allreduce (measured around ``MPI_Allreduce``; it includes waiting for the slower
process), and process 0's CPU time per step outside the allreduce (the step's cost
when every process has a core to itself, nearly blind to other jobs on the machine). The two configurations alternate ``--repeats`` times; the best run of each
is compared, and the median is printed next to it (the machine may be shared).

Run: ``python benchmarks/distributed_mlp.py [--repeats 3] [--samples 60000]``
(needs mpi4py and an mpiexec, e.g. ``pip install mpi4py mpich``).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GLOBAL_BATCH = 256


class TimedComm:
    """An mpi4py communicator whose ``Allreduce`` calls are timed."""

    def __init__(self, comm):
        self.comm, self.seconds, self.cpu_seconds, self.calls = comm, 0.0, 0.0, 0

    def Get_size(self) -> int:
        return self.comm.Get_size()

    def Allreduce(self, send, recv) -> None:
        start, cpu_start = time.perf_counter(), time.process_time()
        self.comm.Allreduce(send, recv)
        self.seconds += time.perf_counter() - start
        self.cpu_seconds += time.process_time() - cpu_start
        self.calls += 1


def worker(samples: int) -> None:
    sys.path.insert(0, ROOT)
    import numpy as np

    from core.tensor import collective
    from layers_on_graph import Input, Sequential, distribution, layers, optimizers, utils

    distribution.set_distribution(distribution.DataParallel())
    timed = None
    if collective.get_communicator() is not None:
        timed = TimedComm(collective.get_communicator())
        collective.set_communicator(timed)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, 784)).astype("float32")
    y = rng.integers(0, 10, size=samples)
    utils.set_random_seed(0)
    model = Sequential([Input(shape=(784,)), layers.Dense(512, activation="relu"),
                        layers.Dense(512, activation="relu"),
                        layers.Dense(10, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    model.fit(x[:GLOBAL_BATCH * 20], y[:GLOBAL_BATCH * 20], batch_size=GLOBAL_BATCH,
              epochs=1, verbose=0)  # warm-up: C compilation, page faults
    distribution.barrier()
    if timed is not None:
        timed.seconds, timed.cpu_seconds, timed.calls = 0.0, 0.0, 0
    start, cpu_start = time.perf_counter(), time.process_time()
    model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, verbose=0)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    steps = -(-samples // GLOBAL_BATCH)
    if distribution.process_index() == 0:
        print("RESULT " + json.dumps({
            "processes": distribution.num_processes(), "samples_per_s": samples / seconds,
            "step_ms": 1e3 * seconds / steps, "compute_cpu_ms": 1e3 * (cpu - (timed.cpu_seconds if timed else 0)) / steps,
            "allreduce_ms": 1e3 * timed.seconds / max(timed.calls, 1) if timed else 0.0,
            "allreduce_calls_per_step": (timed.calls / steps) if timed else 0.0}), flush=True)


def run(processes: int, samples: int) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMEXPR_NUM_THREADS"):
        env[var] = "1"
    command = [sys.executable, os.path.abspath(__file__), "--worker", "--samples", str(samples)]
    if processes > 1:
        mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
        mpiexec = mpiexec if os.access(mpiexec, os.X_OK) else shutil.which("mpiexec")
        command = [mpiexec, "-n", str(processes)] + command
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"{processes} process run failed:\n{done.stdout[-2000:]}\n"
                       f"{done.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.worker:
        worker(args.samples)
        return
    results: dict[int, list[dict]] = {1: [], 2: []}
    for _ in range(args.repeats):
        for processes in (1, 2):
            results[processes].append(run(processes, args.samples))
    print(f"distributed MLP 784-512-512-10, {args.samples} samples, global batch "
          f"{GLOBAL_BATCH}, SGD momentum, float32, 1 thread per process, {os.cpu_count()} "
          f"cores, load average {os.getloadavg()[0]:.1f}\n")
    print("| processes | samples/s best (median) | step ms | compute CPU ms/step | "
          "allreduce ms/step | allreduce calls/step |")
    print("| --- | --- | --- | --- | --- | --- |")
    best = {}
    for processes, runs in results.items():
        top = max(runs, key=lambda r: r["samples_per_s"])
        best[processes] = top["samples_per_s"]
        median = statistics.median(r["samples_per_s"] for r in runs)
        print(f"| {processes} | {top['samples_per_s']:.0f} ({median:.0f}) | "
              f"{top['step_ms']:.1f} | {top['compute_cpu_ms']:.1f} | {top['allreduce_ms']:.2f} | "
              f"{top['allreduce_calls_per_step']:.0f} |")
    print(f"\nspeed-up, 2 processes over 1 (best runs): {best[2] / best[1]:.2f}x")
    cpu = {p: min(r["compute_cpu_ms"] for r in runs) for p, runs in results.items()}
    print(f"CPU time per step outside the allreduce: {cpu[1]:.1f} ms on 1 process, "
          f"{cpu[2]:.1f} ms on each of 2 (what the step costs when every process has "
          f"a core to itself, before the allreduce)")


if __name__ == "__main__":
    main()
