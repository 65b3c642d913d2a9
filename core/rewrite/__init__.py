"""The graph optimizer (filled by the optimizer issue): ``optimize_graph`` entry point."""
from __future__ import annotations


def optimize_graph(fgraph, mode: str = "FAST_RUN", excluding=()):
    """Rewrite ``fgraph`` in place for ``mode``; returns it."""
    return fgraph
