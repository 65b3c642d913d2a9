"""Data-parallel fit over MPI: 2 processes x 1 thread against 1 process x 1 thread.

The 784-512-512-10 ReLU MLP (float32, SGD with momentum 0.9, global batch 256) trains
one epoch on 60000 generated samples; each run is a fresh ``mpiexec`` launch (or a plain
process for 1), warmed up with a few steps (C compilation) that are not timed. A third
row runs one process on the share of one of the two (batch 128): the ceiling of the
2-process run, as the weight update costs the same on every process whatever its share
of the batch. A fourth row runs process 0 of the 2-process run alone, its collectives
skipped (a communicator of size 2 that moves no data; its weights go wrong, only its
time counts): the data-parallel step's own cost (an optimizer update no longer fused
into the gradient product), with no communication, no waiting for the other process and
no second process sharing the memory bus. Rows: samples per second, time per step, the
time per step in the gradient allreduce's communication (with every process on this
machine, the barrier after which each reads the others' gradients in shared memory,
summed by the update itself; else ``MPI_Allreduce``; it includes waiting for the slower
process), and process 0's CPU time per step outside the allreduce (the step's cost when
every process has a core to itself, nearly blind to other jobs on the machine). The runs
alternate ``--repeats`` times; the best run of each is compared, and the median is
printed next to it (the machine may be shared).

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
    """Time the gradient allreduce's communication: with every process on this machine, the
    barrier after which each reads the others' gradients in shared memory, else
    ``MPI_Allreduce``."""
    from backends.numpy import shared_allreduce
    from core.tensor import collective

    comm = collective.get_communicator()
    if comm is None:
        return None
    timer = Timer()
    if collective.shares_memory(comm):
        shared = shared_allreduce.SharedAllreduce
        shared.exchange = timer.wrap(shared.exchange)
    else:
        collective.set_communicator(TimedComm(comm, timer))
    return timer


class NoCommunication:
    """Process 0 of a 2-process run, alone: every collective returns at once, moving no
    data (``Allreduce(MPI.IN_PLACE, x)`` keeps ``x``, ``bcast`` returns its argument)."""

    def Get_size(self) -> int:
        return 2

    def Get_rank(self) -> int:
        return 0

    def Allreduce(self, send, recv) -> None:
        pass

    def bcast(self, value, root: int = 0):
        return value

    def Barrier(self) -> None:
        pass


def worker(samples: int, batch: int, alone_as_two: bool = False) -> None:
    sys.path.insert(0, ROOT)
    import numpy as np

    from core.tensor import collective
    from layers_on_graph import Input, Sequential, distribution, layers, optimizers, utils

    if alone_as_two:
        from layers_on_graph.distribution import runtime

        runtime._comm = NoCommunication()  # what initialize() sets from MPI.COMM_WORLD
        collective.set_communicator(runtime._comm)
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
            "allreduce_ms": 1e3 * timed.seconds / max(timed.calls, 1) if timed else 0.0,
            "allreduce_calls_per_step": (timed.calls / steps) if timed else 0.0}), flush=True)


def run(processes: int, samples: int, batch: int, alone_as_two: bool = False) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMEXPR_NUM_THREADS"):
        env[var] = "1"
    command = [sys.executable, os.path.abspath(__file__), "--worker", "--samples", str(samples),
               "--batch", str(batch)] + (["--alone-as-two"] if alone_as_two else [])
    if processes > 1:
        mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
        mpiexec = mpiexec if os.access(mpiexec, os.X_OK) else shutil.which("mpiexec")
        if mpiexec is None:
            raise SystemExit("distributed_mlp: no mpiexec found (pip install mpi4py mpich)")
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
    parser.add_argument("--batch", type=int, default=GLOBAL_BATCH, help=argparse.SUPPRESS)
    parser.add_argument("--alone-as-two", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.worker:
        worker(args.samples, args.batch, args.alone_as_two)
        return
    half = GLOBAL_BATCH // 2
    # (row, processes, batch per step, samples, alone as two): the third row is one
    # process's share of the 2-process run, alone: what 2 processes would reach with a
    # free allreduce and a free update; the fourth, process 0 of 2 with no communication
    configs = [("1 process", 1, GLOBAL_BATCH, args.samples, False),
               ("2 processes", 2, GLOBAL_BATCH, args.samples, False),
               (f"1 process, batch {half} (the share of one of 2)", 1, half, args.samples // 2,
                False),
               ("process 0 of 2 alone, no communication", 1, GLOBAL_BATCH, args.samples, True)]
    results: dict[str, list[dict]] = {label: [] for label, *_ in configs}
    for _ in range(args.repeats):
        for label, processes, batch, samples, alone in configs:
            r = run(processes, samples, batch, alone)
            r["samples_per_s"] = GLOBAL_BATCH / r["step_ms"] * 1e3  # global samples per s
            results[label].append(r)
    print(f"distributed MLP 784-512-512-10, {args.samples} samples, global batch "
          f"{GLOBAL_BATCH}, SGD momentum, float32, 1 thread per process, {os.cpu_count()} "
          f"cores, load average {os.getloadavg()[0]:.1f}; best of {args.repeats} "
          f"(median)\n")
    print("| run | global samples/s | step ms | compute CPU ms/step | allreduce ms/step | "
          "allreduce calls/step |")
    print("| --- | --- | --- | --- | --- | --- |")
    best = {}
    for label, runs in results.items():
        top = max(runs, key=lambda r: r["samples_per_s"])
        best[label] = top["samples_per_s"]
        median = statistics.median(r["samples_per_s"] for r in runs)
        cpu = min(r["compute_cpu_ms"] for r in runs)
        print(f"| {label} | {top['samples_per_s']:.0f} ({median:.0f}) | {top['step_ms']:.1f} | "
              f"{cpu:.1f} | {top['allreduce_ms']:.2f} | {top['allreduce_calls_per_step']:.0f} |")
    one, two, share, alone = (best[label] for label, *_ in configs)
    print(f"\nspeed-up, 2 processes over 1: {two / one:.2f}x (wall time; with a free "
          f"allreduce and a core each, at most {alone / one:.2f}x for this step, "
          f"{share / one:.2f}x for any data-parallel step)")


if __name__ == "__main__":
    main()
