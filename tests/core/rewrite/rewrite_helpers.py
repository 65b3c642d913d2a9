"""Shared helpers for the optimizer tests: run chosen rewrites alone, compare modes."""
from __future__ import annotations

import numpy as np

from core import function
from core.graph.fg import FunctionGraph
from core.rewrite.engine import REGISTRY, RuleIndex, run_local


def rewrite_only(inputs, outputs, *names):
    """A FunctionGraph of ``outputs`` after applying only the named local rewrites."""
    fg = FunctionGraph(list(inputs), list(outputs) if isinstance(outputs, (list, tuple)) else [outputs])
    run_local(fg, RuleIndex([REGISTRY[n] for n in names]))
    return fg


def scalar_ops(fg_or_f):
    """Names of the scalar ops of the Elemwise nodes (and op class names of the others)."""
    fg = getattr(getattr(fg_or_f, "maker", None), "fgraph", fg_or_f)
    names = []
    for node in fg.toposort():
        sop = getattr(node.op, "scalar_op", None) if type(node.op).__name__ == "Elemwise" else None
        names.append(type(sop).__name__ if sop is not None else type(node.op).__name__)
    return names


def same_values(inputs, outputs, args, rtol=1e-7, atol=0.0):
    """FAST_RUN and FAST_COMPILE give the same values for ``args``."""
    fast = function(inputs, outputs, mode="FAST_RUN", on_unused_input="ignore")
    slow = function(inputs, outputs, mode="FAST_COMPILE", on_unused_input="ignore")
    for a, b in zip(fast(*args), slow(*args)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    return fast
