"""The order in which a compiled function runs its nodes.

Any topological order computes the same values; the order decides what is still in
cache when a node reads it. A node runs as soon as its inputs are ready (and the nodes
``fgraph.orderings`` puts before it have run). Among nodes that became ready at the same
step, cheap ones run first and ``compute_bound`` ones (matrix products, convolutions)
last: a product streams enough data to evict the value the cheap readers need, so a
bias gradient's sum reads the masked gradient while it is still in cache, and a weight
gradient's product runs next to the product that reads the same gradient. Remaining
ties keep the depth-first order of ``fgraph.toposort()``.

The nodes the function's returned outputs need run before all others, as in the
depth-first order: an error there (a wrong input shape is usually caught by the
forward pass) comes before any update has overwritten a shared value in place.
"""
from __future__ import annotations

import heapq
from typing import Sequence

from ..graph.basic import Apply, Variable
from ..graph.fg import FunctionGraph
from ..graph.utils import toposort


def execution_order(fgraph: FunctionGraph, first: Sequence[Variable] = ()) -> list[Apply]:
    """Nodes of ``fgraph`` in the order a compiled function runs them.

    Parameters
    ----------
    fgraph : FunctionGraph
        The optimized graph; its ``orderings`` (node -> nodes that must run first,
        e.g. readers of a value an in-place node overwrites) are honoured.
    first : sequence of Variable
        Outputs whose nodes run before every other node (the returned outputs,
        ahead of the updates).

    Returns
    -------
    list of Apply
        A topological order: each node after its inputs' owners and its orderings.
    """
    depth_first = fgraph.toposort()
    index = {node: k for k, node in enumerate(depth_first)}
    early = set(toposort(list(first), stop=fgraph.inputs, orderings=fgraph.orderings))
    waiting: dict[Apply, int] = {}
    readers: dict[Apply, list[Apply]] = {node: [] for node in depth_first}
    for node in depth_first:
        before = {inp.owner for inp in node.inputs if inp.owner in index}
        before.update(n for n in fgraph.orderings.get(node, ()) if n in index)
        waiting[node] = len(before)
        for b in before:
            readers[b].append(node)

    def rank(node: Apply, ready_at: int) -> tuple:
        return node not in early, ready_at, node.op.compute_bound, index[node]

    heap = [rank(node, 0) for node in depth_first if not waiting[node]]
    heapq.heapify(heap)
    order: list[Apply] = []
    while heap:
        node = depth_first[heapq.heappop(heap)[-1]]
        order.append(node)
        for reader in readers[node]:
            waiting[reader] -= 1
            if not waiting[reader]:
                heapq.heappush(heap, rank(reader, len(order)))
    return order
