"""MPI shared-memory windows, freed once no process has an array over their memory.

``MPI_Win_free`` is collective, while each process drops its last array over a window at
its own moment (reference counts, the garbage collector). So a window is freed in two
stages: when the last array over its memory dies on a process, that process marks the
window released; at the next window allocated on the same communicator (collective: every
process allocates the same windows in the same order, so they number them alike), the
processes agree on the windows that all of them have released and free those together.
A model compiled and fitted again and again under data parallel thus keeps at most the
windows of the step before, not every step's since the start.
"""
from __future__ import annotations

import gc
import weakref

import numpy as np

# id(comm) -> [comm, {number: open window}, numbers released on this process, next number]
_OPEN: dict[int, list] = {}


def allocate(comm, nbytes: int) -> tuple:
    """A new window of ``nbytes`` bytes, all of them in process 0's segment, and one byte
    array over its memory on this process: the window stays open while that array, or any
    view of it, lives. Collective over ``comm``; frees the windows released everywhere
    first."""
    from mpi4py import MPI

    collect(comm)
    nbytes = int(nbytes)
    window = MPI.Win.Allocate_shared(max(nbytes, 1) if comm.Get_rank() == 0 else 0, 1,
                                     comm=comm)
    window.Lock_all(MPI.MODE_NOCHECK)  # one passive epoch: Sync orders the shared stores
    memory = np.ndarray((nbytes,), np.uint8, window.Shared_query(0)[0])
    state = _state(comm)
    number = state[3]
    state[1][number], state[3] = window, number + 1
    weakref.finalize(memory, state[2].add, number)
    return window, memory


def collect(comm, garbage: bool = False) -> int:
    """Free the windows of ``comm`` that every process has released; how many. Collective.

    ``garbage``: run the garbage collector first, for arrays that only reference cycles
    keep (a model dropped for a new one): some milliseconds, once per compiled step.
    """
    state = _state(comm)
    if not state[1]:
        return 0
    if garbage:
        gc.collect()
    mine = set(state[2])  # (a copy made at once: a finalizer may run in another thread)
    everywhere = set.intersection(*(set(r) for r in comm.allgather(sorted(mine))))
    for number in sorted(everywhere):
        window = state[1].pop(number)
        window.Unlock_all()
        window.Free()
    state[2].difference_update(everywhere)
    return len(everywhere)


def open_windows(comm) -> int:
    """How many windows of ``comm`` are open on this process."""
    return len(_state(comm)[1])


def _state(comm) -> list:
    state = _OPEN.get(id(comm))
    if state is None:  # (the state keeps ``comm`` alive: its id is never reused)
        state = _OPEN[id(comm)] = [comm, {}, set(), 0]
    return state
