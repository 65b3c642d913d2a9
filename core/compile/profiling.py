"""The profiler: time per node and per op type, as Theano's ``ProfileStats``.

Turn it on for every function with ``core.config.profile = True`` (or the
flag ``LAYERS_ON_GRAPH_FLAGS=profile=True``), or for one with
``function(..., profile=True)``. Each kernel is then timed; ``f.profile``
holds the statistics, ``f.profile.summary()`` returns the tables,
``print_summaries()`` prints every profiled function's, and they are printed
to stderr when the process exits.

Examples
--------
>>> f = function([x], T.exp(x).sum(), profile=True); f(np.ones(10))
>>> print(f.profile.summary())
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
        _ALL.add(self)
        if not _registered:
            atexit.register(_print_at_exit)
            _registered.append(True)

    def wrap_kernels(self, nodes: Sequence, kernels: Sequence) -> list:
        """Kernels that add their run time to this profile."""
        self.nodes = list(nodes)
        self.node_time = [0.0] * len(self.nodes)
        self.node_calls = [0] * len(self.nodes)
        self.kernel_backend = [_backend_of(k) for k in kernels]
        return [self._timed(i, k) for i, k in enumerate(kernels)]

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

    def summary(self, n_nodes: int = 20) -> str:
        """The profile as text tables: per op type, then the ``n_nodes`` slowest nodes."""
        total = sum(self.node_time)
        per_call = self.call_time / self.calls if self.calls else 0.0
        lines = [f"Function profile: {self.name} (backend {self.backend})",
                 f"  {self.calls} call(s), {self.call_time:.6f} s in total, "
                 f"{per_call * 1e6:.1f} us per call; {total:.6f} s in kernels "
                 f"({100 * total / self.call_time if self.call_time else 0:.1f}%), the rest is "
                 f"call overhead"]
        if self.compile_time:
            lines.append(f"  (C modules compiled during the calls: {self.compile_time:.3f} s, "
                         f"left out of these times)")
        lines += ["", "Op types (slowest first):",
                 f"  {'<% time>':>8} {'<sum %>':>8} {'<time s>':>10} {'<per call us>':>13} "
                 f"{'<calls>':>8} {'<nodes>':>7}  <op type>"]
        acc = 0.0
        for label, t, c, n in self.op_times():
            share = 100 * t / total if total else 0.0
            acc += share
            lines.append(f"  {share:7.1f}% {acc:7.1f}% {t:10.6f} {1e6 * t / max(c, 1):13.2f} "
                         f"{c:8d} {n:7d}  {label}")
        lines += ["", f"Nodes (the {n_nodes} slowest):",
                  f"  {'<% time>':>8} {'<time s>':>10} {'<per call us>':>13} {'<kernel>':>8}  "
                  f"<node>"]
        order = sorted(range(len(self.nodes)), key=lambda i: -self.node_time[i])[:n_nodes]
        for i in order:
            t, c = self.node_time[i], self.node_calls[i]
            share = 100 * t / total if total else 0.0
            lines.append(f"  {share:7.1f}% {t:10.6f} {1e6 * t / max(c, 1):13.2f} "
                         f"{self.kernel_backend[i]:>8}  {i}: {_short(self.nodes[i])}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _backend_of(kernel) -> str:
    module = getattr(kernel, "__module__", "") or ""
    if module.startswith("backends.numpy") or module.startswith("numpy"):
        return "numpy"
    if "c kernel" in getattr(getattr(kernel, "__code__", None), "co_filename", "") or \
            module.startswith("backends.c"):
        return "c"
    return module.split(".")[1] if module.startswith("backends.") else "python"


def _short(node, width: int = 110) -> str:
    text = str(node)
    return text if len(text) <= width else text[: width - 3] + "..."


def print_summaries(file=None) -> None:
    """Print the profile of every profiled function that was called."""
    file = file or sys.stderr
    for stats in list(_ALL):
        if stats.calls:
            print(stats.summary(), file=file)
            print(file=file)


def _print_at_exit() -> None:
    try:
        print_summaries()
    except Exception:  # the interpreter is shutting down; never fail the exit
        pass
