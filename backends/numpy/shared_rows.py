"""Arrays whose rows are split into one block per process, in one MPI shared-memory window.

Every process of one machine sees the whole array (``full``) where it lies, and writes
its own rows (``mine``): a data-parallel step's gathered activations and deltas
(``GatherRows``), and the weights and optimizer slots that each process updates a block
of rows of (``layers_on_graph/distribution/sharded.py``). Ordering is the callers' part:
a process writes its block, every process passes ``shared_allreduce.barrier`` on the
windows, then all read.
"""
from __future__ import annotations

import numpy as np

from . import shared_windows
from .shared_allreduce import barrier


class RowBlocks:
    """An array of ``sum(rows over processes)`` rows of shape ``tail``, process ``q``'s block
    after those of processes ``0 .. q-1``. Collective: every process of ``comm`` makes it,
    in the same order, with its own number of rows."""

    def __init__(self, comm, rows: int, tail: tuple, dtype):
        self.comm, self.rank, self.dtype = comm, comm.Get_rank(), np.dtype(dtype)
        self.counts = [int(r) for r in comm.allgather(int(rows))]
        self.offsets = np.cumsum([0] + self.counts).tolist()
        total, row = self.offsets[-1], int(np.prod(tail, dtype=np.int64))
        # one contiguous array, whatever each process's share
        self.window, memory = shared_windows.allocate(comm, total * row * self.dtype.itemsize)
        self.full = memory.view(self.dtype).reshape((total,) + tuple(tail))
        self.mine = self.block(self.rank)

    def block(self, q: int) -> np.ndarray:
        """Process ``q``'s rows."""
        return self.full[self.offsets[q]:self.offsets[q + 1]]


class ColumnBlocks:
    """A matrix of ``rows x sum(columns over processes)`` in one window, process ``q``'s
    block of columns after those of processes ``0 .. q-1`` (a column-split weight). Stored
    transposed, so that each block is contiguous: ``full`` and ``mine`` are column-major
    views. (Interleaved in each row, the blocks of two processes updating them at once
    slowed each other: the momentum pass over one process's half of a 784x512 kernel took
    0.28-0.35 ms in the step, against 0.06-0.08 ms for a contiguous block.) Collective:
    every process makes it, in the same order, with its own number of columns."""

    def __init__(self, comm, rows: int, columns: int, dtype):
        transposed = RowBlocks(comm, columns, (rows,), dtype)
        self.window, self.full, self.mine = (transposed.window, transposed.full.T,
                                             transposed.mine.T)


def block_rows(rows: int, processes: int, q: int) -> slice:
    """Process ``q``'s share of ``rows`` rows: contiguous, sizes differing by at most one."""
    return slice(rows * q // processes, rows * (q + 1) // processes)


class RowGather:
    """The kernel state of one ``GatherRows`` node: each process writes its rows into its
    block of a shared window, and after a barrier every process reads every block.

    Two sets of windows taken in turn by call, as ``SharedAllreduce``'s slots: a process
    writes set ``s`` again only two calls later, after a barrier that every other process
    reaches once done reading it. A block keeps the room of the most rows its process has
    given (more zeroed); when a process needs more, every process sees it in the other
    processes' row counts (a header row each) after the barrier, and all make larger
    windows together. When the machine's shared memory cannot hold the windows, the rows
    go through ``MPI_Allgather`` instead, each block padded to the largest.
    """

    def __init__(self):
        self.sets: list = [None, None]  # per turn: (header RowBlocks, [RowBlocks per input])
        self.turn = 0
        self.fallback = False

    def __call__(self, comm, tensors: list) -> list[np.ndarray]:
        if self.fallback:
            return allgather_padded(comm, tensors)
        self.turn ^= 1
        needs = [t.shape[0] for t in tensors]
        if self.sets[self.turn] is None and not self._allocate(comm, tensors, needs):
            return allgather_padded(comm, tensors)
        header, blocks = self.sets[self.turn]
        header.mine[0] = needs
        if all(n <= len(b.mine) for n, b in zip(needs, blocks)):
            _write(blocks, tensors)
        barrier(comm, [b.window for b in [header] + blocks])
        wanted = header.full.copy()
        if any(wanted[q, k] > b.counts[q] for k, b in enumerate(blocks)
               for q in range(len(wanted))):
            rows = [max(n, len(b.mine)) for n, b in zip(needs, blocks)]
            if not self._allocate(comm, tensors, rows):
                return allgather_padded(comm, tensors)
            header, blocks = self.sets[self.turn]
            _write(blocks, tensors)
            barrier(comm, [b.window for b in blocks])
        return [b.full for b in blocks]

    def _allocate(self, comm, tensors, rows) -> bool:
        """Windows for this turn with ``rows`` rows of each input on this process (False
        when the machine's shared memory cannot hold both turns' windows)."""
        from core.tensor.collective import shared_memory_fits

        nbytes = comm.allreduce(sum(r * int(np.prod(t.shape[1:])) * t.dtype.itemsize
                                    for r, t in zip(rows, tensors)))
        if not shared_memory_fits(comm, 2 * nbytes):  # both turns' windows
            self.fallback = True
            return False
        header = RowBlocks(comm, 1, (len(tensors),), np.int64)
        self.sets[self.turn] = (header, [RowBlocks(comm, r, t.shape[1:], t.dtype)
                                         for r, t in zip(rows, tensors)])
        return True


def _write(blocks: list, tensors: list) -> None:
    for block, t in zip(blocks, tensors):
        n = t.shape[0]
        block.mine[:n] = t
        if n < len(block.mine):
            block.mine[n:] = 0


def allgather_padded(comm, tensors: list) -> list[np.ndarray]:
    """``MPI_Allgather`` of each tensor's rows, every block padded with zero rows to the
    largest."""
    from mpi4py import MPI

    size = comm.Get_size()
    out = []
    for t in tensors:
        cap = comm.allreduce(t.shape[0], op=MPI.MAX)
        mine = np.zeros((cap,) + t.shape[1:], t.dtype)
        mine[:t.shape[0]] = t
        everyone = np.empty((size * cap,) + t.shape[1:], t.dtype)
        comm.Allgather(mine, everyone)
        out.append(everyone)
    return out
