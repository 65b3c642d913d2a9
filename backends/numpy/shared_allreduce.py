"""A packed allreduce through an MPI shared-memory window, for processes on one machine.

MPICH and Open MPI move a large message between processes of one machine with a
kernel-assisted copy (CMA: a system call and a walk of the peer's page tables per
message); for a data-parallel step's gradient buffer that costs more than the sum
itself. Here every process maps one window (``MPI_Win_allocate_shared``), writes its
contribution straight into its own segment, and after one barrier sums all segments
into its own buffer: the data crosses between the cores once, read where it lies.

Each segment has two slots, taken in turn by call: a process writes slot ``t`` of call
``k + 2`` only after the barrier of call ``k + 1``, which every other process reaches
only after finishing call ``k`` (where it read slot ``t``), so no write races a read.
"""
from __future__ import annotations

import numpy as np

from . import shared_windows


def barrier(comm, windows: list) -> None:
    """Wait for every process of ``comm``, each process's stores into the shared
    ``windows`` (MPI windows) visible to all once it returns."""
    for window in windows:
        window.Sync()  # this process's stores visible ...
    comm.Barrier()  # ... once every process has made its own so
    for window in windows:
        window.Sync()


def window_bytes(comm, size: int, dtype) -> int:
    """The shared memory a ``SharedAllreduce`` of ``size`` values takes on the machine."""
    return comm.Get_size() * 2 * size * np.dtype(dtype).itemsize


class SharedAllreduce:
    """Sums of one buffer size and dtype over the processes of ``comm`` (one machine).

    ``segment(t)`` is this process's slot ``t`` (0 or 1) to write its contribution into;
    ``exchange(t)`` waits for every process and gives every process's slot ``t``;
    ``reduce(t, out)`` writes their sum into ``out``. Every process must make the same calls
    in the same order.
    """

    def __init__(self, comm, size: int, dtype):
        self.comm, self.size, self.dtype = comm, size, np.dtype(dtype)
        processes = comm.Get_size()
        self.window, memory = shared_windows.allocate(comm, window_bytes(comm, size, dtype))
        self.slots = list(memory.view(self.dtype).reshape(processes, 2, size))
        self.rank = comm.Get_rank()

    def segment(self, turn: int) -> np.ndarray:
        return self.slots[self.rank][turn]

    def exchange(self, turn: int) -> list[np.ndarray]:
        barrier(self.comm, [self.window])
        return [slots[turn] for slots in self.slots]

    def reduce(self, turn: int, out: np.ndarray) -> None:
        first, second, *more = self.exchange(turn)
        np.add(first, second, out=out)
        for contribution in more:
            np.add(out, contribution, out=out)
