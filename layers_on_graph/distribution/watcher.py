"""A process left waiting for ever in a collective ends the run, saying where each waits.

An MPI collective returns once every process has called it. A process whose script has
ended never will, nor one waiting in another collective. Each process runs a watcher
thread. When the main thread has stood on one line of collective code for ``GRACE``
seconds, the watcher tells the other processes where it waits (that line, and the
script's own line that called the library); it tells them when it moves on, and when the
script ends. A process aborts all once it has waited ``GRACE`` seconds after another
process's script ended, or ``DEADLOCK`` seconds while every other process waits too, not
all on its line of collective code (processes waiting on one line are in one collective,
only a slow one).
"""
from __future__ import annotations

import atexit
import os
import sys
import threading
import time

from core.graph.trace import user_frame

GRACE = 2.0
DEADLOCK = 10.0
_TAG = 1
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# code whose long stays are waits in collectives (the rest of it only copies memory)
_COLLECTIVE_CODE = (os.path.join(_ROOT, "layers_on_graph", "distribution", ""),
                    os.path.join(_ROOT, "backends", "numpy", "collective.py"),
                    os.path.join(_ROOT, "backends", "numpy", "shared_"),
                    os.path.join(_ROOT, "core", "tensor", "collective.py"))


def install(comm) -> None:
    """Watch this process's waits (collective: ``comm.Dup``). Only where MPI allows calls
    from several threads at once (mpi4py asks for it); else nothing changes."""
    from mpi4py import MPI

    if MPI.Query_thread() == MPI.THREAD_MULTIPLE:
        Watcher(comm.Dup())


def user_line(frame) -> str:
    """``file:line`` of the first frame outside the library from ``frame`` out (``frame``'s
    own when there is none)."""
    filename, lineno, _ = user_frame(frame) or (frame.f_code.co_filename, frame.f_lineno, "")
    return f"{filename}:{lineno}"


class Watcher:
    """The watcher thread of this process, its notices to the others on ``notices``."""

    def __init__(self, notices):
        self.notices, self.rank = notices, notices.Get_rank()
        # rank -> ("waiting", (line of collective code, the script's line)) or ("ended", None)
        self.peers: dict[int, tuple] = {}
        self.sent: list = []  # notices not yet delivered
        self.seen, self.since, self.posted = None, 0.0, None
        self.stop, self.main = threading.Event(), threading.main_thread()
        self.thread = threading.Thread(target=self.run, name="collective-watcher", daemon=True)
        self.thread.start()
        atexit.register(self.end)  # before mpi4py's MPI_Finalize, which waits for all

    def post(self, kind: str, where: tuple | None = None) -> None:
        self.sent += [self.notices.isend((kind, where), dest=q, tag=_TAG)
                      for q in range(self.notices.Get_size()) if q != self.rank]

    def end(self) -> None:
        from mpi4py import MPI

        self.stop.set()
        self.thread.join()
        self.post("ended")
        MPI.Request.waitall(self.sent)

    def run(self) -> None:
        while not self.stop.wait(0.2):
            if self.receive():
                self.since = time.monotonic()  # a wait counts from the news it may be for ever
            self.check()
            self.sent = [r for r in self.sent if not r.Test()]

    def receive(self) -> bool:
        from mpi4py import MPI

        status, news = MPI.Status(), False
        while self.notices.iprobe(source=MPI.ANY_SOURCE, tag=_TAG, status=status):
            source = status.Get_source()
            kind, where = self.notices.recv(source=source, tag=_TAG)
            if kind == "moved":
                self.peers.pop(source, None)
            else:
                self.peers[source], news = (kind, where), True
        return news

    def check(self) -> None:
        # (no frame kept past this call: a frame keeps its locals, shared windows among them)
        frame = sys._current_frames().get(self.main.ident)
        where = None if frame is None or not frame.f_code.co_filename.startswith(
            _COLLECTIVE_CODE) else (id(frame), frame.f_lineno)
        if where != self.seen:
            self.seen, self.since = where, time.monotonic()
            if self.posted is not None:
                self.post("moved")
                self.posted = None
            return
        waited = time.monotonic() - self.since
        if where is None or waited < GRACE:
            return
        code = os.path.relpath(frame.f_code.co_filename, _ROOT)
        mine = (f"{code}:{frame.f_lineno} ({frame.f_code.co_name})", user_line(frame))
        if self.posted is None:
            self.post("waiting", mine)
            self.posted = mine
        ended = sorted(q for q, (kind, _) in self.peers.items() if kind == "ended")
        waiting = {q: at for q, (kind, at) in self.peers.items() if kind == "waiting"}
        if ended or (waited >= DEADLOCK and len(waiting) == self.notices.Get_size() - 1
                     and any(at[0] != mine[0] for at in waiting.values())):
            self.abort(mine, ended, waiting)

    def abort(self, mine: tuple, ended: list, waiting: dict) -> None:
        others = [f"process {q}, whose script has ended" for q in ended] + [
            f"process {q}, waiting at {at[1]} (in {at[0]})" for q, at in sorted(waiting.items())]
        sys.stderr.write(
            f"[process {self.rank}] waits for ever at {mine[1]} (in {mine[0]}, a collective) "
            f"for {'; '.join(others)}: every process must call fit, evaluate, predict and "
            f"the other collectives alike, in the same order; aborting all processes\n")
        sys.stderr.flush()
        sys.stdout.flush()
        time.sleep(0.2)  # as faults.abort_all: let the launcher pass the message on
        self.notices.Abort(1)
