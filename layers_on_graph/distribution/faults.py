"""An error on one process ends all of them: print it, then ``MPI_Abort``.

Without this, an exception on one process leaves the others blocked forever in
their next collective. A process that dies from a signal is the launcher's to
handle: ``mpiexec`` (hydra, Open MPI) and ``srun`` end the job when one dies.

A process that ends its script while another waits for it in a collective (a script that
calls ``evaluate`` on process 0 alone) would leave that one waiting for ever too: each
process tells the others when its script ends, and a watcher thread aborts all, naming
the user's line, once this process has waited ``GRACE`` seconds on one line of collective
code after a notice.
"""
from __future__ import annotations

import atexit
import os
import sys
import threading
import time
import traceback

_ENDED = 1  # the tag of "this process's script has ended", on the notices' communicator
# code whose waits are collectives: a main thread stuck there after a notice is stuck
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_COLLECTIVE_CODE = (os.path.join(_ROOT, "layers_on_graph", "distribution", ""),
                    os.path.join(_ROOT, "backends", "numpy", "collective.py"),
                    os.path.join(_ROOT, "backends", "numpy", "shared_"),
                    os.path.join(_ROOT, "core", "tensor", "collective.py"))
_LIBRARY_CODE = tuple(os.path.join(_ROOT, d, "") for d in ("core", "backends",
                                                            "layers_on_graph"))
GRACE = 2.0  # seconds on one line of collective code after a notice: waiting for ever


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


def install_end_notices(comm) -> None:
    """Tell the other processes when this script ends, and abort all when this process
    waits in a collective for a process whose script has ended (collective: ``comm.Dup``).
    Only where MPI allows calls from several threads at once (mpi4py asks for it)."""
    from mpi4py import MPI

    if MPI.Query_thread() != MPI.THREAD_MULTIPLE:
        return
    notices = comm.Dup()
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(notices, stop, threading.main_thread()),
                               name="end-notices", daemon=True)
    watcher.start()

    def announce_end():
        stop.set()
        watcher.join()
        rank = notices.Get_rank()
        MPI.Request.Waitall([notices.Isend(b"", dest=q, tag=_ENDED)
                             for q in range(notices.Get_size()) if q != rank])

    atexit.register(announce_end)  # before mpi4py's MPI_Finalize, which waits for all


def _watch(notices, stop, main) -> None:
    from mpi4py import MPI

    ended, status, seen, since = [], MPI.Status(), None, 0.0
    while not stop.wait(0.2):
        while notices.Iprobe(source=MPI.ANY_SOURCE, tag=_ENDED, status=status):
            notices.Recv(bytearray(0), source=status.Get_source(), tag=_ENDED)
            ended.append(status.Get_source())
        if ended:
            seen, since = _check_waiting(notices, main, ended, seen, since)


def _check_waiting(notices, main, ended: list, seen, since: float) -> tuple:
    """(where the main thread is, since when) while in collective code, after a notice;
    aborts all once it has stayed there ``GRACE`` seconds. Keeps no frame: a frame held
    keeps its locals alive (and the shared windows under them)."""
    frame = sys._current_frames().get(main.ident)
    if frame is None or not frame.f_code.co_filename.startswith(_COLLECTIVE_CODE):
        return None, 0.0
    where = (id(frame), frame.f_lineno)
    if where != seen:
        return where, time.monotonic()
    if time.monotonic() - since >= GRACE:
        _abort_waiting(notices, frame, sorted(ended))
    return seen, since


def _abort_waiting(notices, frame, ended: list) -> None:
    user = frame  # the first frame of the user's code: not the library's nor generated
    while user is not None and user.f_code.co_filename.startswith(_LIBRARY_CODE + ("<",)):
        user = user.f_back
    where = (f"{user.f_code.co_filename}:{user.f_lineno}" if user is not None
             else f"{frame.f_code.co_filename}:{frame.f_lineno}")
    who = ", ".join(map(str, ended))
    sys.stderr.write(
        f"[process {notices.Get_rank()}] waits at {where} ({frame.f_code.co_name}, a collective)"
        f" for process {who}, whose script has ended: every process must call fit, evaluate, "
        f"predict and the other collectives alike, in the same order; aborting all "
        f"processes\n")
    sys.stderr.flush()
    sys.stdout.flush()
    time.sleep(0.2)  # as abort_all: let the launcher pass the message on
    notices.Abort(1)
