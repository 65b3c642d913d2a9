"""Every intermediate value of a compiled function, on demand.

A compiled function runs its optimized graph, whose variables are not the
user's (fused, rewritten). ``Function.intermediates(*inputs)`` instead
evaluates the graph the function was built from: every variable computed
between its inputs and its outputs (or only the named ones), for the given
input values, as Theano users did by hand with ``function(inputs,
[intermediate, ...])``. Shared variables are read, never updated.
"""
from __future__ import annotations

from typing import Sequence

from ..graph.basic import Variable
from ..graph.utils import toposort


def intermediate_variables(inputs: Sequence[Variable], outputs: Sequence[Variable]) -> list:
    """Variables computed between ``inputs`` and ``outputs``, outputs included, in the order
    they are computed (each after those it reads)."""
    found, seen = [], set()
    for node in toposort(outputs, stop=inputs):
        for out in node.outputs:
            if id(out) not in seen:
                seen.add(id(out))
                found.append(out)
    return found


def _select(candidates: list, names) -> list:
    if names is None:
        return candidates
    by_name: dict = {}
    for v in candidates:
        if v.name:
            by_name.setdefault(v.name, v)
    chosen = []
    for key in ([names] if isinstance(names, (str, Variable)) else list(names)):
        if isinstance(key, Variable):
            if not any(v is key for v in candidates):
                raise ValueError(f"intermediates: {key} is not computed by this function")
            chosen.append(key)
        elif key in by_name:
            chosen.append(by_name[key])
        else:
            raise ValueError(f"intermediates: no intermediate variable named {key!r}; named "
                             f"ones: {sorted(by_name)}")
    return chosen


def intermediate_values(fn, values: list, names=None) -> dict:
    """``{variable: value}`` for ``fn``'s intermediate variables (``names``: only those
    named so, or those Variables), computed from the input ``values``; see
    ``Function.intermediates``."""
    from .function import function

    in_vars = [i.variable for i in fn.ins]
    chosen = _select(intermediate_variables(in_vars, fn.maker.outputs), names)
    key = tuple(id(v) for v in chosen)
    cache = fn.__dict__.setdefault("_intermediates_fns", {})
    if key not in cache:
        cache[key] = (function(in_vars, chosen, mode=fn.maker.mode, on_unused_input="ignore",
                               no_default_updates=True, name=f"intermediates of {fn.name}"),
                      chosen)  # keeps the variables alive: the ids stay theirs
    compiled, _ = cache[key]
    return dict(zip(chosen, compiled(*values)))
