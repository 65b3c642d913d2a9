"""Plans of a 2-process training step on one machine, in numpy: the row-sharded step
against a tensor-parallel one, both against one process. (The library runs the first for
the models it does not split, and a leaner form of the second, ``split_pair.py``, for
this MLP.)

The 784-512-512-10 ReLU MLP, softmax cross-entropy, SGD with momentum 0.9, float32,
global batch 256, one BLAS thread per process; shared memory through MPI windows.

- one process: the whole batch.
- row-sharded (``layers_on_graph/distribution/sharded.py``): each process runs forward and
  backward on its 128 rows, copies its layer inputs and deltas into shared windows,
  and after a barrier computes the gradient of its block of each kernel's rows over all
  256 rows and updates those rows, which live in shared windows (the other process reads
  them in its next forward pass: a barrier ends the step). The 512x10 kernel's gradient is
  summed through a window.
- tensor-parallel: each process owns half of the columns of both hidden layers' kernels
  (private memory) and runs all 256 rows: it writes its half of each hidden activation
  into a window, and after a barrier reads the other half; the 10-way head runs on both
  (the same numbers); the input gradient of the second layer is a sum of the two
  processes' partial products, read after a third barrier. Nothing is summed for a
  weight, and no weight is shared.

Each plan's weights after five steps are checked against one process's before it is
timed. Run: ``python benchmarks/distributed_plans.py [--steps 300]`` (launches
``mpiexec -n 2`` itself; needs mpi4py and an mpiexec, e.g. ``pip install mpi4py mpich``).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from harness import mpiexec  # (first: it fixes the thread settings)

import numpy as np  # noqa: E402

F32 = np.float32
BATCH, SIZES = 256, (784, 512, 512, 10)
LR, MU = F32(0.01), F32(0.9)


def problem():
    """The batch and the initial weights, the same on every process."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCH, SIZES[0])).astype(F32)
    y = rng.integers(0, SIZES[3], BATCH)
    kernels = [(rng.normal(size=(a, b)) * 0.05).astype(F32) for a, b in zip(SIZES, SIZES[1:])]
    return x, y, kernels


class Buffers:
    """Output arrays made on first use and reused by name, as a compiled step's storage:
    fresh 0.5 MB temporaries would each cost page faults."""

    def __init__(self):
        self.arrays: dict = {}

    def __call__(self, name: str, shape: tuple) -> np.ndarray:
        if name not in self.arrays:
            self.arrays[name] = np.empty(shape, F32)
        return self.arrays[name]


def momentum(m: np.ndarray, w: np.ndarray, grad: np.ndarray) -> None:
    """SGD with momentum, ``grad`` overwritten."""
    m *= MU
    grad *= LR
    m -= grad
    w += m


def dense_relu(a: np.ndarray, w: np.ndarray, out: np.ndarray) -> np.ndarray:
    np.dot(a, w, out=out)
    return np.maximum(out, 0, out=out)


def relu_delta(delta: np.ndarray, activation: np.ndarray) -> np.ndarray:
    """``delta`` where ``activation`` (a ReLU's output) is positive, else 0 (in place)."""
    delta[activation <= 0] = 0
    return delta


def head_delta(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The gradient of the mean cross-entropy over the global batch at the logits ``z``
    (overwritten)."""
    z -= z.max(1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(1, keepdims=True)
    z[np.arange(len(y)), y] -= 1
    z /= F32(BATCH)
    return z


def one_process(comm):
    x, y, (w1, w2, w3) = problem()
    ms = [np.zeros_like(w) for w in (w1, w2, w3)]
    out = Buffers()

    def step():
        h1 = dense_relu(x, w1, out("h1", (BATCH, SIZES[1])))
        h2 = dense_relu(h1, w2, out("h2", (BATCH, SIZES[2])))
        d3 = head_delta(h2 @ w3, y)
        d2 = relu_delta(np.dot(d3, w3.T, out=out("d2", h2.shape)), h2)
        d1 = relu_delta(np.dot(d2, w2.T, out=out("d1", h1.shape)), h1)
        momentum(ms[2], w3, h2.T @ d3)
        momentum(ms[1], w2, np.dot(h1.T, d2, out=out("g2", w2.shape)))
        momentum(ms[0], w1, np.dot(x.T, d1, out=out("g1", w1.shape)))

    return step, lambda: (w1, w2, w3)


def shared(comm, shape: tuple) -> np.ndarray:
    """An array in an MPI shared-memory window, the same memory on every process."""
    from mpi4py import MPI

    nbytes = int(np.prod(shape)) * 4
    window = MPI.Win.Allocate_shared(nbytes if comm.Get_rank() == 0 else 0, 1, comm=comm)
    shared.windows.append(window)
    return np.ndarray(shape, F32, window.Shared_query(0)[0])


shared.windows = []


def row_sharded(comm):
    rank = comm.Get_rank()
    x_all, y_all, (k1, k2, k3) = problem()
    mine = slice(rank * BATCH // 2, (rank + 1) * BATCH // 2)
    x, y = x_all[mine].copy(), y_all[mine]
    rows1 = slice(rank * SIZES[0] // 2, (rank + 1) * SIZES[0] // 2)
    rows2 = slice(rank * SIZES[1] // 2, (rank + 1) * SIZES[1] // 2)
    w1, w2, w3 = shared(comm, k1.shape), shared(comm, k2.shape), k3.copy()
    if rank == 0:
        w1[...], w2[...] = k1, k2
    m1, m2, m3 = (np.zeros_like(w1[rows1]), np.zeros_like(w2[rows2]), np.zeros_like(w3))
    # two sets of windows taken in turn: a process writes a set again only after a barrier
    # the other passes once done reading it
    turns = [[shared(comm, (BATCH, n)) for n in (SIZES[0], SIZES[1], SIZES[1], SIZES[2])]
             + [shared(comm, (2,) + k3.shape)] for _ in range(2)]
    turn, out, rows = [0], Buffers(), BATCH // 2
    comm.Barrier()

    def step():
        turn[0] ^= 1
        x_all, d1_all, h1_all, d2_all, g3 = turns[turn[0]]
        h1 = dense_relu(x, w1, out("h1", (rows, SIZES[1])))
        h2 = dense_relu(h1, w2, out("h2", (rows, SIZES[2])))
        d3 = head_delta(h2 @ w3, y)
        np.dot(h2.T, d3, out=g3[rank])
        d2 = relu_delta(np.dot(d3, w3.T, out=out("d2", h2.shape)), h2)
        d1 = relu_delta(np.dot(d2, w2.T, out=out("d1", h1.shape)), h1)
        x_all[mine], d1_all[mine], h1_all[mine], d2_all[mine] = x, d1, h1, d2
        comm.Barrier()
        momentum(m3, w3, g3[0] + g3[1])
        momentum(m1, w1[rows1], np.dot(x_all[:, rows1].T, d1_all, out=out("g1", m1.shape)))
        momentum(m2, w2[rows2], np.dot(h1_all[:, rows2].T, d2_all, out=out("g2", m2.shape)))
        comm.Barrier()

    return step, lambda: (w1.copy(), w2.copy(), w3)


def tensor_parallel(comm):
    rank = comm.Get_rank()
    x, y, (k1, k2, k3) = problem()
    half = SIZES[1] // 2
    cols = slice(rank * half, (rank + 1) * half)
    w1, w2, w3 = k1[:, cols].copy(), k2[:, cols].copy(), k3.copy()
    ms = [np.zeros_like(w) for w in (w1, w2, w3)]
    # per turn: each process's half of h1 and of h2, and its partial input gradient of
    # layer 2
    turns = [(shared(comm, (2, BATCH, half)), shared(comm, (2, BATCH, half)),
              shared(comm, (2, BATCH, SIZES[1]))) for _ in range(2)]
    turn, out = [0], Buffers()
    comm.Barrier()

    def step():
        turn[0] ^= 1
        h1, h2, partial = turns[turn[0]]
        dense_relu(x, w1, h1[rank])
        comm.Barrier()
        z2 = np.dot(h1[0], w2[:half], out=out("z2", (BATCH, half)))
        z2 += np.dot(h1[1], w2[half:], out=out("z2b", (BATCH, half)))
        np.maximum(z2, 0, out=h2[rank])
        comm.Barrier()
        h2_all = np.concatenate(list(h2), axis=1)
        d3 = head_delta(h2_all @ w3, y)  # the same on both processes
        d2 = relu_delta(np.dot(d3, w3[cols].T, out=out("d2", (BATCH, half))), h2[rank])
        np.dot(d2, w2.T, out=partial[rank])
        g2 = out("g2", w2.shape)
        np.dot(h1[0].T, d2, out=g2[:half])
        np.dot(h1[1].T, d2, out=g2[half:])
        g3 = h2_all.T @ d3
        comm.Barrier()
        d1 = np.add(partial[0][:, cols], partial[1][:, cols], out=out("d1", (BATCH, half)))
        relu_delta(d1, h1[rank])
        for m, w, g in zip(ms, (w1, w2, w3), (np.dot(x.T, d1, out=out("g1", w1.shape)), g2,
                                             g3)):
            momentum(m, w, g)

    def weights():
        return (np.concatenate(comm.allgather(w1), 1), np.concatenate(comm.allgather(w2), 1),
                w3)

    return step, weights


def timed(comm, step, steps: int) -> float:
    """Best of five runs of ``steps`` steps, in ms per step (the slowest process's)."""
    for _ in range(30):
        step()
    best = float("inf")
    for _ in range(5):
        comm.Barrier()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        comm.Barrier()
        best = min(best, (time.perf_counter() - start) / steps * 1e3)
    from mpi4py import MPI

    return comm.allreduce(best, op=MPI.MAX)


def worker(steps: int) -> None:
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    reference, reference_weights = one_process(comm)
    for _ in range(5):
        reference()
    rows = []
    for plan in (row_sharded, tensor_parallel):
        step, weights = plan(comm)
        for _ in range(5):
            step()
        error = max(float(np.abs(a - b).max()) for a, b in zip(weights(), reference_weights()))
        rows.append((plan.__name__.replace("_", "-"), timed(comm, step, steps), error))
    # one process alone on the machine: the other sleeps (MPI's waits spin, and a busy core
    # would slow it) until process 0 sends word
    if comm.Get_rank() == 0:
        one_ms = timed(MPI.COMM_SELF, one_process(MPI.COMM_SELF)[0], steps)
        comm.send(None, dest=1)
    else:
        while not comm.Iprobe(source=0):
            time.sleep(0.01)
        comm.recv(source=0)
        return
    print(f"1 process, batch {BATCH} | {one_ms:.2f} | 1.00x | -")
    for name, ms, error in rows:
        print(f"2 processes, {name} | {ms:.2f} | {one_ms / ms:.2f}x | {error:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.steps)
        return
    launcher = mpiexec("distributed_plans")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    print(f"step plans in numpy, MLP 784-512-512-10, global batch {BATCH}, 1 BLAS thread per "
          f"process, load average {os.getloadavg()[0]:.1f}\n")
    print("| plan | ms per step | speed-up | largest weight difference from 1 process "
          "after 5 steps |\n| --- | --- | --- | --- |")
    sys.stdout.flush()
    subprocess.run([launcher, "-n", "2", sys.executable, os.path.abspath(__file__), "--worker",
                    "--steps", str(args.steps)], env=env, check=True, timeout=1800)


if __name__ == "__main__":
    main()
