"""An error on one process ends all of them: print it, then ``MPI_Abort``.

Without this, an exception on one process leaves the others blocked forever in
their next collective. A process that dies from a signal is the launcher's to
handle: ``mpiexec`` (hydra, Open MPI) and ``srun`` end the job when one dies.
"""
from __future__ import annotations

import sys
import time
import traceback


def install_abort_on_error(comm) -> None:
    """Make an uncaught exception print its traceback (tagged with the rank) and abort all."""
    previous = sys.excepthook
    rank = comm.Get_rank()

    def abort_all(kind, value, tb):
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
        else:
            text = "".join(traceback.format_exception(kind, value, tb))
            sys.stderr.write(f"[process {rank}] uncaught error; aborting all processes\n{text}")
        sys.stderr.flush()
        sys.stdout.flush()
        # the launcher forwards output through its own pipes: give it the time to pass the
        # traceback on before the abort tears the job down (a loaded machine once lost it)
        time.sleep(0.2)
        comm.Abort(1)

    sys.excepthook = abort_all
