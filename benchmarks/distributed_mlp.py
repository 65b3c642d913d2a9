"""Data-parallel fit over MPI: 2 processes x 1 thread against 1 process x 1 thread.

The 784-512-512-10 ReLU MLP (float32, SGD with momentum 0.9, global batch 256) trains
one epoch on 60000 generated samples; each run is a fresh ``mpiexec`` launch (or a plain
process for 1), warmed up with a few steps (C compilation) that are not timed. The
library's step for 2 processes on one machine splits the MLP's first two Dense layers by
hidden units (``layers_on_graph/distribution/split_pair.py``); a second row times the
row-sharded step it replaces for this model (``sharded.py``, the step of the models it
does not split). Two reference rows: one process on the share of one of the two (batch
128, half the samples), alone, and two such processes side by side, independent (no
communication, both cores busy): what any data-parallel step could reach on this
machine. Rows: samples per second, time per step, the time per step in the step's
collectives (with every process on this machine, the barriers of the shared-memory step:
the split step's exchange of partial products (its end waits for the epoch's end); the
row-sharded step's gathering of the kernels' inputs and deltas, exchange of the rest, and
end; else ``MPI_Allreduce``; waiting for the slower process included), and process 0's
CPU time per step outside them. The runs alternate ``--repeats`` times; the best run of
each is compared, and the median is printed next to it (the machine may be shared).

Run: ``python benchmarks/distributed_mlp.py [--repeats 3] [--samples 60000]``
(needs mpi4py and an mpiexec, e.g. ``pip install mpi4py mpich``).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from harness import mpiexec  # (first: it fixes the thread settings)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GLOBAL_BATCH = 256


class Timer:
    """Seconds (wall and this thread's CPU) and calls of the functions it wraps."""

    def __init__(self):
        self.seconds, self.cpu_seconds, self.calls = 0.0, 0.0, 0

    def wrap(self, fn):
        def timed(*args):
            start, cpu_start = time.perf_counter(), time.thread_time()
            result = fn(*args)
            self.seconds += time.perf_counter() - start
            self.cpu_seconds += time.thread_time() - cpu_start
            self.calls += 1
            return result

        return timed


class TimedComm:
    """An mpi4py-like communicator whose ``Allreduce`` calls ``timer`` times."""

    def __init__(self, comm, timer: Timer):
        self.comm, self.Allreduce = comm, timer.wrap(comm.Allreduce)

    def Get_size(self) -> int:
        return self.comm.Get_size()


def time_collectives() -> Timer | None:
    """Time the step's collectives: with every process on this machine, its barriers (the
    gathering of the kernels' rows, the exchange of the rest, the end of the step), else
    ``MPI_Allreduce``."""
    from backends.numpy import shared_allreduce, shared_rows
    from core.tensor import collective

    comm = collective.get_communicator()
    if comm is None:
        return None
    timer = Timer()
    if collective.shares_memory(comm):
        shared_allreduce.barrier = shared_rows.barrier = timer.wrap(shared_allreduce.barrier)
    else:
        collective.set_communicator(TimedComm(comm, timer))
    return timer


def worker(samples: int, batch: int, rows: bool) -> None:
    sys.path.insert(0, ROOT)
    import numpy as np

    from layers_on_graph import Input, Sequential, distribution, layers, optimizers, utils
    from layers_on_graph.distribution import split_pair

    if rows:
        split_pair.SMALL_REST = -1  # no model splits: the row-sharded step
    distribution.set_distribution(distribution.DataParallel())
    timed = time_collectives()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, 784)).astype("float32")
    y = rng.integers(0, 10, size=samples)
    utils.set_random_seed(0)
    model = Sequential([Input(shape=(784,)), layers.Dense(512, activation="relu"),
                        layers.Dense(512, activation="relu"),
                        layers.Dense(10, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    model.fit(x[:batch * 20], y[:batch * 20], batch_size=batch, epochs=1,
              verbose=0)  # warm-up: C compilation, page faults
    distribution.barrier()
    if timed is not None:
        timed.seconds, timed.cpu_seconds, timed.calls = 0.0, 0.0, 0
    start, cpu_start = time.perf_counter(), time.thread_time()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    seconds, cpu = time.perf_counter() - start, time.thread_time() - cpu_start
    steps = -(-samples // batch)
    if distribution.process_index() == 0:
        print("RESULT " + json.dumps({
            "step_ms": 1e3 * seconds / steps,
            "compute_cpu_ms": 1e3 * (cpu - (timed.cpu_seconds if timed else 0)) / steps,
            "collective_ms": 1e3 * timed.seconds / steps if timed else 0.0,
            "collective_calls_per_step": (timed.calls / steps) if timed else 0.0}), flush=True)


def run(processes: int, samples: int, batch: int, side_by_side: int = 1,
        rows: bool = False) -> dict:
    """One run; ``side_by_side`` independent copies of it at once (the slowest reported);
    ``rows``: the row-sharded step."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMEXPR_NUM_THREADS"):
        env[var] = "1"
    command = [sys.executable, os.path.abspath(__file__), "--worker", "--samples", str(samples),
               "--batch", str(batch)] + (["--rows"] if rows else [])
    if processes > 1:
        command = [mpiexec("distributed_mlp"), "-n", str(processes)] + command
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(side_by_side)]
    results = []
    for proc in runs:
        out, err = proc.communicate(timeout=1800)
        lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
        if not lines:
            raise RuntimeError(f"{processes} process run failed:\n{out[-2000:]}\n{err[-2000:]}")
        results.append(json.loads(lines[-1][7:]))
    return max(results, key=lambda r: r["step_ms"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument("--batch", type=int, default=GLOBAL_BATCH, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.samples, args.batch, args.rows)
        return
    half = GLOBAL_BATCH // 2
    # (row, processes, batch per step, samples, copies side by side, row-sharded): the last
    # two rows are one process's share alone, and two such shares side by side, independent
    configs = [("1 process", 1, GLOBAL_BATCH, args.samples, 1, False),
               ("2 processes", 2, GLOBAL_BATCH, args.samples, 1, False),
               ("2 processes, row-sharded step", 2, GLOBAL_BATCH, args.samples, 1, True),
               (f"1 process, batch {half} (the share of one of 2), alone", 1, half,
                args.samples // 2, 1, False),
               (f"2 independent processes, batch {half} each, side by side", 1, half,
                args.samples // 2, 2, False)]
    results: dict[str, list[dict]] = {label: [] for label, *_ in configs}
    for _ in range(args.repeats):
        for label, processes, batch, samples, copies, rows in configs:
            r = run(processes, samples, batch, copies, rows)
            # global samples per second: a share's step stands for a 256-sample step
            r["samples_per_s"] = GLOBAL_BATCH / r["step_ms"] * 1e3
            results[label].append(r)
    print(f"distributed MLP 784-512-512-10, {args.samples} samples, global batch "
          f"{GLOBAL_BATCH}, SGD momentum, float32, 1 thread per process, {os.cpu_count()} "
          f"cores, load average {os.getloadavg()[0]:.1f}; best of {args.repeats} "
          f"(median)\n")
    print("| run | global samples/s | step ms | compute CPU ms/step | collectives ms/step | "
          "collective calls/step |")
    print("| --- | --- | --- | --- | --- | --- |")
    best = {}
    for label, runs in results.items():
        top = max(runs, key=lambda r: r["samples_per_s"])
        best[label] = top["samples_per_s"]
        median = statistics.median(r["samples_per_s"] for r in runs)
        cpu = min(r["compute_cpu_ms"] for r in runs)
        print(f"| {label} | {top['samples_per_s']:.0f} ({median:.0f}) | {top['step_ms']:.2f} | "
              f"{cpu:.2f} | {top['collective_ms']:.2f} | {top['collective_calls_per_step']:.0f} |")
    one, two, row_sharded, alone, side = (best[label] for label, *_ in configs)
    print(f"\nspeed-up, 2 processes over 1: {two / one:.2f}x (wall time; the row-sharded "
          f"step: {row_sharded / one:.2f}x; two independent shares side by side: "
          f"{side / one:.2f}x, one share alone: {alone / one:.2f}x)")


if __name__ == "__main__":
    main()
