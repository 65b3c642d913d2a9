"""The profiler: time per node and per op type, as Theano's ``ProfileStats``.

Turn it on for every function with ``core.config.profile = True`` (or the
flag ``LAYERS_ON_GRAPH_FLAGS=profile=True``), or for one with
``function(..., profile=True)``. Each kernel is then timed; ``f.profile``
holds the statistics, ``f.profile.summary(file=...)`` prints them in Theano's
layout (stderr by default; ``str(f.profile)`` is the text),
``print_summaries()`` prints every profiled function's, and they are printed
to stderr when the process exits.

Examples
--------
>>> f = function([x], T.exp(x).sum(), profile=True); f(np.ones(10))
>>> f.profile.summary(file=sys.stdout)
"""
from __future__ import annotations

import atexit
import sys
import time
import weakref
from typing import Sequence

_ALL: "weakref.WeakSet[ProfileStats]" = weakref.WeakSet()
_registered: list = []


def op_type(node) -> str:
    """The op-type label of a node: its class, with the scalar op for elementwise ones."""
    op = node.op
    label = type(op).__name__
    scalar = getattr(op, "scalar_op", None)
    if scalar is not None:
        label += "{" + (type(scalar).__name__ if not hasattr(scalar, "fgraph") else "Composite") + "}"
    return label


class ProfileStats:
    """Times per node of one compiled function, accumulated over its calls."""

    def __init__(self, name: str | None = None, backend: str = ""):
        self.name = name or "<unnamed function>"
        self.backend = backend
        self.nodes: list = []
        self.node_time: list[float] = []
        self.node_calls: list[int] = []
        self.kernel_backend: list[str] = []
        self.calls = 0
        self.call_time = 0.0
        self.compile_time = 0.0  # C modules built during calls (left out of the times)
        self.optimizer_time = 0.0  # set by ``function``: rewriting the graph
        self.linker_time = 0.0  # set by ``function``: building the program and its kernels
        _ALL.add(self)
        if not _registered:
            atexit.register(_print_at_exit)
            _registered.append(True)

    def wrap_kernels(self, nodes: Sequence, kernels: Sequence) -> list:
        """Kernels that add their run time to this profile."""
        self.nodes = list(nodes)
        self.node_time = [0.0] * len(self.nodes)
        self.node_calls = [0] * len(self.nodes)
        self.kernel_backend = [k.runs for k in kernels]
        return [k.wrapped(self._timed(i, k.fn)) for i, k in enumerate(kernels)]

    def _timed(self, i: int, kernel):
        clock, times, calls = time.perf_counter, self.node_time, self.node_calls
        from backends import compile_seconds

        def timed(*args):
            t0, c0 = clock(), compile_seconds()
            try:
                return kernel(*args)
            finally:
                compiling = compile_seconds() - c0  # a lazy C compile is not the node's time
                times[i] += clock() - t0 - compiling
                calls[i] += 1
                self.compile_time += compiling

        return timed

    def wrap_call(self, run):
        """``run`` counted and timed as one whole call of the function."""
        clock = time.perf_counter
        from backends import compile_seconds

        def timed_run(*args):
            t0, c0 = clock(), compile_seconds()
            try:
                return run(*args)
            finally:
                self.call_time += clock() - t0 - (compile_seconds() - c0)
                self.calls += 1

        return timed_run

    def op_times(self) -> list[tuple[str, float, int, int]]:
        """(op type, seconds, calls, nodes), slowest first."""
        agg: dict[str, list] = {}
        for node, t, c in zip(self.nodes, self.node_time, self.node_calls):
            entry = agg.setdefault(op_type(node), [0.0, 0, 0])
            entry[0] += t
            entry[1] += c
            entry[2] += 1
        return sorted(((k, v[0], v[1], v[2]) for k, v in agg.items()), key=lambda r: -r[1])

    def summary(self, file=None, n_ops_to_print: int = 20, n_apply_to_print: int = 20) -> None:
        """Print the profile as Theano's ``ProfileStats.summary`` does, to ``file``
        (default stderr): the function's times, then the Class, Ops and Apply tables,
        slowest first. ``str(profile)`` is the same text."""
        print(self.summary_text(n_ops_to_print, n_apply_to_print), file=file or sys.stderr)

    def summary_text(self, n_ops_to_print: int = 20, n_apply_to_print: int = 20) -> str:
        """The text ``summary`` prints."""
        total = sum(self.node_time)
        compile_total = self.optimizer_time + self.linker_time
        lines = ["Function profiling", "==================",
                 f"  Message: {self.name}",
                 f"  Time in {self.calls} calls to Function.__call__: {self.call_time:e}s",
                 f"  Time in thunks: {total:e}s ({_percent(total, self.call_time):.3f}%)",
                 f"  Total compile time: {compile_total:e}s",
                 f"    Number of Apply nodes: {len(self.nodes)}",
                 f"    Optimizer time: {self.optimizer_time:e}s",
                 f"    Linker time (includes C code generation/compiling): {self.linker_time:e}s",
                 f"    C modules compiled during the calls: {self.compile_time:e}s "
                 f"(left out of these times)",
                 f"  Backend: {self.backend}", ""]
        for title, key in (("Class", _class_name), ("Ops", str)):
            lines += [title, "---", "<% time> <sum %> <apply time> <time per call> <type> "
                      f"<#call> <#apply> <{'Class' if title == 'Class' else 'Op'} name>"]
            rows = self._grouped(key)
            for share, acc, t, c, n, kind, label in _accumulate(rows[:n_ops_to_print], total):
                lines.append(f"  {share:5.1f}%   {acc:5.1f}%   {t:9.3f}s   {t / max(c, 1):11.2e}s "
                             f"{kind:>5} {c:8d} {n:8d}   {label}")
            lines += [_remaining(rows[n_ops_to_print:], total, "Classes" if title == "Class"
                                 else "Ops"), ""]
        lines += ["Apply", "------",
                  "<% time> <sum %> <apply time> <time per call> <#call> <id> <Apply name>"]
        order = sorted(range(len(self.nodes)), key=lambda i: -self.node_time[i])
        rows = [(self.node_time[i], self.node_calls[i], i, _short(self.nodes[i])) for i in order]
        acc = 0.0
        for t, c, i, label in rows[:n_apply_to_print]:
            acc += _percent(t, total)
            lines.append(f"  {_percent(t, total):5.1f}%   {acc:5.1f}%   {t:9.3f}s   "
                         f"{t / max(c, 1):11.2e}s {c:8d} {i:5d}   {label}")
        lines.append(_remaining([(r[0],) for r in rows[n_apply_to_print:]], total,
                                "Apply instances"))
        return "\n".join(lines)

    def _grouped(self, key) -> list[tuple]:
        """(seconds, calls, nodes, 'C'/'Py', label) per ``key(op)``, slowest first."""
        agg: dict[str, list] = {}
        for node, t, c, b in zip(self.nodes, self.node_time, self.node_calls, self.kernel_backend):
            entry = agg.setdefault(key(node.op), [0.0, 0, 0, set()])
            entry[0] += t
            entry[1] += c
            entry[2] += 1
            entry[3].add("C" if b == "c" else "Py")
        rows = [(v[0], v[1], v[2], "+".join(sorted(v[3])), k) for k, v in agg.items()]
        return sorted(rows, key=lambda r: -r[0])

    def __str__(self) -> str:
        return self.summary_text()


def _class_name(op) -> str:
    return f"{type(op).__module__}.{type(op).__name__}"


def _percent(part: float, whole: float) -> float:
    return 100 * part / whole if whole else 0.0


def _accumulate(rows, total: float):
    acc = 0.0
    for t, c, n, kind, label in rows:
        acc += _percent(t, total)
        yield _percent(t, total), acc, t, c, n, kind, label


def _remaining(rows, total: float, what: str) -> str:
    t = sum(r[0] for r in rows)
    return (f"   ... (remaining {len(rows)} {what} account for {_percent(t, total):6.2f}%"
            f"({t:.2f}s) of the runtime)")


def _short(node, width: int = 110) -> str:
    text = str(node)
    return text if len(text) <= width else text[: width - 3] + "..."


def print_summaries(file=None) -> None:
    """Print the profile of every profiled function that was called."""
    file = file or sys.stderr
    for stats in list(_ALL):
        if stats.calls:
            stats.summary(file=file)
            print(file=file)


def _print_at_exit() -> None:
    try:
        print_summaries()
    except Exception:  # the interpreter is shutting down; never fail the exit
        pass
