"""The processes of a data-parallel run: MPI through mpi4py, imported only when needed.

A script launched with ``mpiexec -n N`` (or ``srun``) sees N processes; a script run
alone sees one, and then mpi4py is never imported, so everything runs as without it.
"""
from __future__ import annotations

import os

from core.tensor import collective

from .faults import install_abort_on_error

# environment variables that launchers set to the number of processes
_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS",
                   "SLURM_NTASKS")

_comm = None


def launched_processes() -> int:
    """How many processes the launcher started, from its environment (1 when none did)."""
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 1:
            return int(value)
    return 1


def initialize() -> None:
    """Join the other processes of an ``mpiexec``/``srun`` launch (no-op when run alone).

    Sets ``MPI.COMM_WORLD`` as the communicator of ``core.tensor.collective.allreduce``
    and installs an exception hook that prints a process's error and aborts every
    process, so that an error on one never leaves the others waiting.

    Raises
    ------
    ImportError
        Launched on several processes but mpi4py is not installed.
    """
    global _comm
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


def communicator():
    """The mpi4py communicator of all processes, or None when running alone."""
    return _comm if _comm is not None and _comm.Get_size() > 1 else None


def process_index() -> int:
    """This process's index, 0 to ``num_processes() - 1`` (0 when running alone)."""
    return communicator().Get_rank() if communicator() else 0


def num_processes() -> int:
    """The number of processes training together (1 when running alone)."""
    return communicator().Get_size() if communicator() else 1


def barrier() -> None:
    """Wait until every process gets here (e.g. before reading a file process 0 wrote)."""
    if communicator():
        communicator().Barrier()
