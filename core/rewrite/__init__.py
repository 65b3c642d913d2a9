"""The graph optimizer: named rewrites in phases, merge and constant folding.

``optimize_graph(fgraph, mode)`` rewrites a FunctionGraph in place:

- ``FAST_COMPILE``: merge, then the canonicalize and stabilize rules (constant folding,
  algebraic identities, removal of ``zero_grad``-like identities, the stable forms of
  ``log(softmax)``, ``log(1 + exp(x))``, crossentropies ...). Unlike Theano's FAST_COMPILE it
  stabilizes: a debugging mode must not give NaN where FAST_RUN gives numbers, and these
  rules cost about as little as the graph's merge (the MLP train graph: 35 ms either way).
- ``FAST_RUN``: merge, then canonicalize, stabilize and specialize (each phase
  runs its rules and those of the phases before it to a fixed point, then
  merges), then elementwise fusion, row fusion (``X.T @ f(X @ v)`` in one pass
  over ``X``, ``row_fusion.py``) and inplace.

Any rewrite can be ruled out by name or by tag (a phase name is a tag too),
globally with ``core.config.optimizer_excluding = "name1:name2"`` or per
function with ``function(..., excluding=["local_log1p"])``; the global passes
are named ``merge``, ``fusion``, ``row_fusion`` and ``inplace``.

A new local rewrite is one function in the module of its phase::

    @register("stabilize", ps.Log, tags=("log1p",))
    def local_log1p(fgraph, node):  # docstring: the algebra, "log(1 + x) -> log1p(x)"
        ...  # return [replacement] or None

Examples
--------
>>> x = T.dvector('x'); f = function([x], T.log(1 + x))
>>> [str(n.op) for n in f.maker.fgraph.toposort()]
['Elemwise{log1p}']
"""
from __future__ import annotations

from typing import Iterable

from . import canonicalize, passes, specialize, stabilize  # noqa: F401  (register the rules)
from . import collective  # noqa: F401  (products into the allreduce buffer)
from . import pool_relu  # noqa: F401  (max-pool gradient, ReLU mask, bias sum)
from .engine import PHASES, REGISTRY, RuleIndex, Stats, register, run_local
from .fusion import fuse
from .inplace import insert_inplace
from .passes import merge
from .row_fusion import fuse_row_dots

__all__ = ["optimize_graph", "register", "REGISTRY", "PHASES", "merge", "fuse",
           "insert_inplace", "Stats"]

_LOCAL_PHASES = ("canonicalize", "stabilize", "specialize")
_INDEX_CACHE: dict = {}


def _index(phases: tuple, only: tuple = ()) -> RuleIndex:
    key = (phases, only, len(REGISTRY))
    if key not in _INDEX_CACHE:
        rules = [rw for rw in REGISTRY.values() if rw.phase in phases
                 and (not only or rw.name in only)]
        _INDEX_CACHE[key] = RuleIndex(rules)
    return _INDEX_CACHE[key]


def _exclusions(excluding: Iterable[str]) -> frozenset:
    from ..config import config

    names = [n for n in str(config.optimizer_excluding or "").split(":") if n]
    if isinstance(excluding, str):
        excluding = [n for n in excluding.split(":") if n]
    return frozenset(names) | frozenset(excluding or ())


def optimize_graph(fgraph, mode: str = "FAST_RUN", excluding: Iterable[str] = (),
                   stats: Stats | None = None):
    """Rewrite ``fgraph`` in place for ``mode`` ('FAST_RUN' or 'FAST_COMPILE'); returns it.

    ``excluding`` lists rewrite names or tags to skip (added to
    ``config.optimizer_excluding``); ``stats`` collects how often each applied.
    """
    if mode not in ("FAST_RUN", "FAST_COMPILE"):
        raise ValueError(f"optimize_graph: unknown mode {mode!r}; use 'FAST_RUN' or 'FAST_COMPILE'")
    ex = _exclusions(excluding)
    use_merge = "merge" not in ex
    if use_merge:
        merge(fgraph)
    if mode == "FAST_COMPILE":
        run_local(fgraph, _index(_LOCAL_PHASES[:2]), ex, stats)  # canonicalize, stabilize
        if use_merge:
            merge(fgraph)
        return fgraph
    for k, phase in enumerate(_LOCAL_PHASES):
        if phase in ex:
            continue
        run_local(fgraph, _index(_LOCAL_PHASES[:k + 1]), ex, stats)
        if use_merge:
            merge(fgraph)
    if "fuse" not in ex and "fusion" not in ex:
        fuse(fgraph)
    if "row_fusion" not in ex:
        fuse_row_dots(fgraph)
    if "inplace" not in ex:
        insert_inplace(fgraph)
    return fgraph
