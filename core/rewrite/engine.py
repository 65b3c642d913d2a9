"""The rewrite engine: a registry of named local rewrites, applied to a fixed point.

A local rewrite is a function ``rewrite(fgraph, node) -> replacement | None``
where the replacement is a list of new variables (one per node output, None to
keep one) or a dict ``{old_var: new_var}``. It is registered once with
``@register(phase, *tracks, tags=...)``: ``tracks`` are the Op classes it
matches, or scalar-op classes for ``Elemwise`` nodes (so that ``log(...)``
rules only see Elemwise{log} nodes). The engine indexes rules by those
classes, so a node is only offered the rules that can match it.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable

from ..graph.basic import Apply, Constant, Variable
from ..graph.fg import FunctionGraph
from ..tensor.elemwise import Elemwise

PHASES = ("canonicalize", "stabilize", "specialize", "fuse", "inplace")


@dataclass
class Rewrite:
    """One named rewrite: ``fn(fgraph, node)``; ``tracks`` are the classes it matches."""

    name: str
    fn: Callable
    phase: str
    tracks: tuple = ()
    tags: frozenset = field(default_factory=frozenset)

    def __call__(self, fgraph, node):
        return self.fn(fgraph, node)


REGISTRY: dict[str, Rewrite] = {}


def register(phase: str, *tracks: type, tags: tuple = (), name: str | None = None):
    """Register a local rewrite in ``phase`` (its tags also include the phase name).

    Examples
    --------
    >>> @register("canonicalize", ps.Neg)
    ... def local_neg_neg(fgraph, node): ...
    """
    if phase not in PHASES:
        raise ValueError(f"register: unknown phase {phase!r}; phases are {PHASES}")

    def decorator(fn):
        rname = name or fn.__name__
        if rname in REGISTRY:
            raise ValueError(f"register: a rewrite named {rname!r} already exists")
        REGISTRY[rname] = Rewrite(rname, fn, phase, tuple(tracks), frozenset((phase, *tags)))
        return fn

    return decorator


def excluded(rewrite: Rewrite, excluding: frozenset) -> bool:
    return rewrite.name in excluding or bool(rewrite.tags & excluding)


class RuleIndex:
    """Rules of one phase, looked up by op class / scalar-op class."""

    def __init__(self, rewrites: list[Rewrite]):
        self.by_class: dict[type, list[Rewrite]] = {}
        self.generic: list[Rewrite] = []
        for rw in rewrites:
            if not rw.tracks:
                self.generic.append(rw)
            for cls in rw.tracks:
                self.by_class.setdefault(cls, []).append(rw)
        self._cache: dict[tuple, list[Rewrite]] = {}

    def rules_for(self, node: Apply) -> list[Rewrite]:
        sop = node.op.scalar_op if isinstance(node.op, Elemwise) else None
        key = (type(node.op), type(sop))
        rules = self._cache.get(key)
        if rules is None:
            rules = []
            classes = list(type(node.op).__mro__)
            if sop is not None:
                classes += list(type(sop).__mro__)
            for cls in classes:
                for rw in self.by_class.get(cls, ()):
                    if rw not in rules:
                        rules.append(rw)
            rules += self.generic
            self._cache[key] = rules
        return rules


def copy_trace(new: Variable, old: Variable, fgraph: FunctionGraph) -> None:
    """Give ``new`` and the nodes it brings into ``fgraph`` the source trace (and scope) of
    ``old``."""
    trace = getattr(old.tag, "trace", None)
    if trace is None:
        return
    scope = getattr(old.tag, "scope", None)
    stack = [new]
    seen = set()
    while stack:
        v = stack.pop()
        if id(v) in seen or v in fgraph.clients:
            continue
        seen.add(id(v))
        if not isinstance(v, Constant):
            v.tag.trace = trace
            if scope is not None:
                v.tag.scope = scope
        if v.owner is not None:
            for o in v.owner.outputs:
                o.tag.trace = trace
                if scope is not None:
                    o.tag.scope = scope
            stack.extend(v.owner.inputs)


class RewriteError(TypeError):
    """A rewrite produced a replacement of another type (a bug in that rewrite)."""


def _checked(rw: Rewrite, old: Variable, new: Variable) -> Variable:
    ot, nt = old.type, new.type
    if ot == nt:
        return new
    if getattr(ot, "dtype", None) != getattr(nt, "dtype", None) or ot.ndim != nt.ndim or any(
            o == 1 and n != 1 for o, n in zip(ot.shape, nt.shape)):
        raise RewriteError(f"rewrite {rw.name} replaced {old} ({ot}) by {new} ({nt})")
    return new


def apply_replacement(fgraph: FunctionGraph, rw: Rewrite, node: Apply, result) -> list[Apply]:
    """Install ``result`` of ``rw`` on ``node``; returns nodes to (re)visit."""
    if isinstance(result, dict):
        pairs = list(result.items())
    else:
        pairs = [(o, n) for o, n in zip(node.outputs, result) if n is not None and n is not o]
    touched: list[Apply] = []
    for old, new in pairs:
        if old not in fgraph.clients:
            continue
        new = _checked(rw, old, new)
        copy_trace(new, old, fgraph)
        fgraph.replace(old, new, reason=rw.name)
        if new.owner is not None:
            touched.append(new.owner)
            touched.extend(i.owner for i in new.owner.inputs if i.owner is not None)
        touched.extend(c for c, _ in fgraph.clients.get(new, ()) if c != "output")
    return touched


class Stats:
    """Counts of applied rewrites, by name (``optimize_graph(..., stats=Stats())``)."""

    def __init__(self):
        self.applied: dict[str, int] = {}

    def add(self, name: str) -> None:
        self.applied[name] = self.applied.get(name, 0) + 1


def run_local(fgraph: FunctionGraph, rules: RuleIndex, excluding: frozenset = frozenset(),
              stats: Stats | None = None, max_steps: int | None = None) -> int:
    """Apply ``rules`` to every node until none matches; returns the number applied.

    A worklist holds the nodes to look at: all of them first, then the nodes a
    rewrite created and the clients of what it replaced.
    """
    queue = fgraph.toposort()
    queue.reverse()  # pop() from the end: inputs first
    queued = set(queue)
    applied = 0
    limit = max_steps if max_steps is not None else 20 * len(queue) + 1000
    while queue:
        node = queue.pop()
        queued.discard(node)
        if node not in fgraph.apply_nodes:
            continue
        for rw in rules.rules_for(node):
            if excluded(rw, excluding):
                continue
            result = rw.fn(fgraph, node)
            if not result:
                continue
            touched = apply_replacement(fgraph, rw, node, result)
            applied += 1
            if stats is not None:
                stats.add(rw.name)
            for t in touched:
                if t not in queued and t in fgraph.apply_nodes:
                    queued.add(t)
                    queue.append(t)
            break
        if applied > limit:
            warnings.warn(f"optimizer: stopped after {applied} rewrites without reaching a "
                          f"fixed point (a rewrite loop?)", stacklevel=2)
            break
    return applied
