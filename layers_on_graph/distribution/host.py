"""The host side of data parallelism in fit / evaluate / predict.

Every helper is cheap and changes nothing when running alone, so the training loop
calls them unconditionally.
"""
from __future__ import annotations

import sys

import numpy as np

from backends.numpy.shared_rows import block_rows

from . import data_parallel, runtime, watcher


def _comm():
    return runtime.communicator() if data_parallel.active() else None


def agree(call: str, **facts) -> None:
    """Check that every process makes this ``call`` (fit, evaluate, predict) with the same
    ``facts`` (sample counts, batch size...): each is collective, and a process calling
    another, or over other data, would leave the others waiting for ever.

    Raises
    ------
    RuntimeError
        The processes make different calls (``evaluate`` on process 0 alone).
    ValueError
        They make this call with different facts (each process its own data).
    """
    comm = runtime.calls_communicator() if data_parallel.active() else None
    if comm is None:
        return
    line = watcher.user_line(sys._getframe(1))
    everyone = comm.allgather((call, facts, line))
    if any(other[0] != call for other in everyone):
        calls = ", ".join(f"{c} at {at} on process {q}" for q, (c, _, at) in enumerate(everyone))
        raise RuntimeError(f"{calls}: under data parallel, fit, evaluate and predict are "
                           f"collectives; every process must call them alike, in the same "
                           f"order")
    differ = [k for k in facts if any(other[1].get(k) != facts[k] for other in everyone)]
    if differ:
        values = "; ".join(f"{k}: " + ", ".join(f"{other[1].get(k)} on process {q}"
                                                for q, other in enumerate(everyone))
                           for k in differ)
        raise ValueError(f"{call} at {line}: the processes differ in {values}. Under data "
                         f"parallel every process passes the whole data (each takes its "
                         f"slice of every global batch) and the same arguments")


def local_slice(lo: int, hi: int) -> slice:
    """This process's part of the global batch ``[lo, hi)``: contiguous, sizes differing by
    at most one, possibly empty (every process still runs the step)."""
    comm = _comm()
    if comm is None:
        return slice(lo, hi)
    part = block_rows(hi - lo, comm.Get_size(), comm.Get_rank())
    return slice(lo + part.start, lo + part.stop)


def _whole(step) -> bool:
    """Whether ``step`` (a train function) runs the whole global batch on every process
    (``ShardedStep.global_batch``), not this process's slice."""
    return getattr(step, "global_batch", False)


def step_rows(step):
    """``rows(lo, hi)``: the rows of the global batch ``[lo, hi)`` that ``step`` takes on
    this process: all of them (``_whole``), or this process's slice."""
    return slice if _whole(step) else local_slice


def settle(step) -> None:
    """Wait until every process has ended ``step``'s last call (a train function whose
    calls leave their final barrier to the next reader of whole weights:
    ``ShardedStep.settle``); nothing for any other. Collective."""
    settle_step = getattr(step, "settle", None)
    if settle_step is not None:
        settle_step()


def step_part(step, arrays: list, n: int) -> list:
    """``step``'s part of one global batch of ``n`` samples (a stream's batch)."""
    return arrays if _whole(step) else local_part(arrays, n)


def whole_batch(step, arrays: list) -> list:
    """The global batch made of every process's ``arrays`` (each passes its own:
    ``train_on_batch``), for a ``step`` that runs the whole batch on every process; else
    ``arrays``."""
    comm = _comm()
    if comm is None or not _whole(step):
        return arrays
    return [np.concatenate(comm.allgather(np.asarray(a))) for a in arrays]


def local_part(arrays: list, n: int) -> list:
    """This process's slice of one global batch of ``n`` samples (a stream's batch)."""
    part = local_slice(0, n)
    return arrays if part == slice(0, n) else [a[part] for a in arrays]


def shared_rng(rng: np.random.Generator) -> np.random.Generator:
    """``rng`` alone; under data parallel, a generator seeded by process 0, so every
    process shuffles a stream's batches in one order."""
    comm = _comm()
    if comm is None:
        return rng
    return np.random.default_rng(comm.bcast(int(rng.integers(2 ** 62)), root=0))


def same_on_all(value):
    """``value`` as process 0 has it (a shuffled order must be one order)."""
    comm = _comm()
    return value if comm is None else comm.bcast(value, root=0)


def sync_state(model) -> None:
    """Give every process process 0's weights and optimizer state (at the start of fit, so
    a resumed or differently initialized process starts where process 0 is)."""
    comm = _comm()
    if comm is None:
        return
    variables = list(model.weights)
    if model.optimizer is not None:
        lr = model.optimizer.learning_rate_variable  # None under a schedule
        variables += ([lr] if lr is not None else []) + list(model.optimizer.variables)
    values = comm.bcast([v.get_value(borrow=True) for v in variables]
                        if comm.Get_rank() == 0 else None, root=0)
    for v, value in zip(variables, values):
        v.set_value(value)


def local_rows(value: np.ndarray, batch: int) -> np.ndarray:
    """This process's rows of ``value``, an array over the ``batch`` rows of a global batch
    (a stateful RNN's states); ``value`` itself when alone or when it has other rows."""
    if _comm() is None or value.shape[0] != batch:
        return value
    return value[local_slice(0, batch)].copy()


def local_states(model) -> None:
    """Under data parallel, give each stateful RNN of ``model`` the states of this
    process's rows of the global batch (its slice of every batch), before its step
    functions are built; states already local stay as they are."""
    if _comm() is None:
        return
    seen, todo = set(), [model]
    while todo:
        layer = todo.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        todo += getattr(layer, "_layers", [])  # (a model's ``layers`` are among them)
        batch = getattr(layer, "state_batch", None)
        for var in (getattr(layer, "states", None) or []) if batch is not None else []:
            var.set_value(local_rows(var.get_value(borrow=True), batch))


def is_writer() -> bool:
    """Whether this process writes files (checkpoints, logs, saved models): process 0 only."""
    return _comm() is None or runtime.process_index() == 0


def local_verbose(verbose: int) -> int:
    """``verbose`` on process 0; 0 elsewhere (one progress bar)."""
    return verbose if is_writer() else 0


def local_callbacks(callbacks):
    """The callbacks this process runs: those that only write files run on process 0."""
    if is_writer() or not callbacks:
        return callbacks
    return [c for c in callbacks if not getattr(c, "writes_files", False)]


def gather_batches(chunks: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    """Each output's per-step chunks from all processes, in the global sample order."""
    comm = _comm()
    if comm is None:
        return chunks
    everyone = comm.allgather(chunks)
    return [[part[k][step] for step in range(len(chunks[k])) for part in everyone]
            for k in range(len(chunks))]
