"""The processes of a data-parallel run: MPI through mpi4py, imported only when needed.

A script launched with ``mpiexec -n N`` (or ``srun``) sees N processes; a script run
alone sees one, and then mpi4py is never imported, so everything runs as without it.
"""
from __future__ import annotations

import os

from core.tensor import collective

from . import watcher
from .faults import install_abort_on_error

# environment variables that launchers set to the number of processes
_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS",
                   "SLURM_STEP_NUM_TASKS")  # the last: srun's, not the batch script's

_comm = None
_calls = None  # a duplicate of _comm for agree(): fit, evaluate, predict checked alike


def launched_processes() -> int:
    """How many processes the launcher started, from its environment (1 when none did)."""
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 1:
            return int(value)
    return 1


def initialize(job_addresses: str | None = None, num_processes: int | None = None,
               process_id: int | None = None) -> None:
    """Join the other processes of an ``mpiexec``/``srun`` launch (no-op when run alone).

    Sets ``MPI.COMM_WORLD`` as the communicator of ``core.tensor.collective.allreduce``
    and installs an exception hook that prints a process's error and aborts every
    process, so that an error on one never leaves the others waiting.

    Parameters
    ----------
    job_addresses, num_processes, process_id
        Keras's arguments. The MPI launcher decides the hosts and the processes; the
        numbers, when given, are checked against it.

    Raises
    ------
    ImportError
        Launched on several processes but mpi4py is not installed.
    ValueError
        ``num_processes`` or ``process_id`` disagree with the launch.
    """
    _join()
    for name, given, actual in (("num_processes", num_processes, _size()),
                                ("process_id", process_id, process_index())):
        if given is not None and int(given) != actual:
            raise ValueError(f"distribution.initialize: {name}={given}, but the launcher "
                             f"started this process as {name}={actual}")


def _join() -> None:
    global _comm, _calls
    if _comm is not None or launched_processes() == 1:
        return
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise ImportError(f"distribution.initialize: {launched_processes()} processes were "
                          f"launched but mpi4py is missing; pip install mpi4py") from exc
    _comm = MPI.COMM_WORLD
    if _comm.Get_size() > 1:
        collective.set_communicator(_comm)
        install_abort_on_error(_comm)
        watcher.install(_comm)
        _calls = _comm.Dup()


def communicator():
    """The mpi4py communicator of all processes, or None when running alone."""
    return _comm if _comm is not None and _comm.Get_size() > 1 else None


def calls_communicator():
    """The communicator on which the processes compare their calls of fit, evaluate and
    predict (``host.agree``), apart from the steps' collectives; None when alone."""
    return _calls if communicator() else None


def process_index() -> int:
    """This process's index, 0 to ``num_processes() - 1`` (0 when running alone)."""
    return communicator().Get_rank() if communicator() else 0


def _size() -> int:
    return communicator().Get_size() if communicator() else 1


def num_processes() -> int:
    """The number of processes training together (1 when running alone)."""
    return _size()


def list_devices(device_type: str | None = None) -> list[str]:
    """One ``'cpu:K'`` per process, as Keras lists the devices of a distributed run."""
    if device_type not in (None, "cpu"):
        raise ValueError(f"list_devices: only 'cpu' devices take part, got {device_type!r}")
    return [f"cpu:{k}" for k in range(_size())]


def barrier() -> None:
    """Wait until every process gets here (e.g. before reading a file process 0 wrote)."""
    if communicator():
        communicator().Barrier()
