"""The C backend as a ``Backend``: wraps ``backends.c`` (``backends.get_backend('c')``
imports it only when asked, and stands in a ``MissingBackend`` when cffi is missing)."""
from __future__ import annotations

from ..base import Backend


class CBackend(Backend):
    name = "c"

    def unavailable_reason(self):
        from . import compiler

        if compiler.compiler() is None:
            return "no C compiler found ($CC, cc, gcc, clang)"
        return None

    def make_kernels(self, nodes, lazy=True):
        from . import make_kernels

        return make_kernels(list(nodes), lazy=lazy)

    def native_loop(self, program, loop, kind, counts):
        # The step's kernels are C ones (they give ``native`` addresses): run the steps in C.
        if not any(k.native is not None for k in (program.kernels or ())):
            return None
        from . import scan_loop

        if kind == "forward":
            return scan_loop.forward_loop(program, loop, *counts)
        return scan_loop.backward_loop(program, loop, counts)

    def compile_seconds(self):
        import sys

        compiler = sys.modules.get("backends.c.compiler")
        return compiler.COMPILE_SECONDS[0] if compiler is not None else 0.0
