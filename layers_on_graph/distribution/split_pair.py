"""A data-parallel step that splits a Dense pair by its hidden units (tensor parallel).

For a model that starts with two Dense layers, ``dot(f(dot(x, W1) + b1), W2)`` with ``f``
elementwise (the activation), and whose other weights are small, process ``q`` of ``N``
(all on one machine) holds a block of the hidden units: columns ``h_q`` of ``W1`` and
``b1``, the same rows of ``W2``. It runs the whole global batch: its hidden units
``a_q = f(x @ W1[:, h_q] + b1[h_q])``, then its partial product ``a_q @ W2[h_q]``. One
exchange in shared memory (``ExchangeProduct``) hands every process all partial
products, and the rest of the step (the sum, the layers after the pair, the loss, their
gradients and updates) runs on every process alike, on the same numbers. The backward
pass needs no collective: the gradient reaching the pair is the same on every process,
and each process takes its blocks' gradients from it. Each process updates its blocks in
windows every process maps (``sharded.ShardedWeights``), so a whole weight is there to
read (``evaluate``, ``save``) once every process has ended the step
(``ShardedStep.settle``).

Against the row-sharded step (``sharded.py``: each process runs its slice of the rows and
gathers every layer's inputs and deltas) this moves one product per step instead of four
matrices, and its products keep all rows of the batch: BLAS packs a block of each split
kernel per product, where every row-sharded process packs the whole kernel for half the
rows. The layers after the pair run whole on every process, so the plan is taken only
when the step's other weights, frozen ones included, are small (``SMALL_REST``), nothing
before the pair is trained, and the step updates no state (BatchNormalization
statistics) and draws no random numbers (dropout: each process would draw its own).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import core.tensor as T
from core.graph.utils import clone_replace, graph_inputs, toposort
from core.tensor.collective import exchange_product
from core.tensor.elemwise import DimShuffle, Elemwise
from core.tensor.math import Dot

from . import sharded

# The weights outside the pair run whole on every process: the plan pays when they are at
# most this share of the pair's (the 784-512-512-10 MLP's 512x10 head: 0.8%).
SMALL_REST = 0.125


@dataclass
class Pair:
    """Two Dense layers found in a step's graph: ``dot(f(dot(x, w1) + b1), w2)``."""

    w1: object
    b1: object | None
    w2: object
    hidden: object  # f(...): the input of the second product
    product: object  # the second product's output


def find_pair(outputs: list, params: list) -> Pair | None:
    """The first Dense pair of ``outputs``' graph whose input depends on no weight in
    ``params`` and whose weights and hidden units nothing else reads; None if none."""
    nodes = toposort(outputs)
    clients: dict[int, list] = {}
    for node in nodes:
        for i in node.inputs:
            clients.setdefault(id(i), []).append(node)
    trained = {id(p) for p in params}
    for node in nodes:
        if (isinstance(node.op, Dot) and id(node.inputs[1]) in trained
                and node.inputs[1].ndim == 2 and node.inputs[0].ndim == 2
                and not any(id(v) in trained for v in graph_inputs([node.inputs[0]]))):
            pair = _pair_from(node, clients, trained, {id(o) for o in outputs})
            if pair is not None:
                return pair
    return None


def _pair_from(first, clients: dict, trained: set, outputs: set) -> Pair | None:
    """The pair whose first product is ``first``, when only elementwise nodes (reading
    scalars or a bias ``b1``) lie between it and a second product by a trained matrix, and
    nothing else reads the pair's weights or hidden units."""
    w1 = first.inputs[1]
    n_hidden = w1.type.shape[1]
    frontier, b1, second = [first.outputs[0]], None, None
    while frontier:
        var = frontier.pop()
        users = clients.get(id(var), [])
        if id(var) in outputs or not users or var.type.shape[-1] != n_hidden:
            return None
        for node in users:
            if (isinstance(node.op, Dot) and node.inputs[0] is var and second is None
                    and id(node.inputs[1]) in trained and node.inputs[1].ndim == 2
                    and node.inputs[1].type.shape[0] == n_hidden):
                second = node
                continue
            if not isinstance(node.op, Elemwise) or len(node.outputs) != 1:
                return None
            for other in node.inputs:
                if other is var or all(other.type.broadcastable):
                    continue
                bias = _bias(other, n_hidden, trained, clients)
                if bias is None or (b1 is not None and bias is not b1):
                    return None
                b1 = bias
            frontier.append(node.outputs[0])
    if second is None or None in w1.type.shape or None in second.inputs[1].type.shape:
        return None
    w2 = second.inputs[1]
    if (len(clients.get(id(w1), [])) != 1 or len(clients.get(id(w2), [])) != 1
            or (b1 is not None and len(clients.get(id(b1), [])) != 1)):
        return None  # read elsewhere too (a weight penalty reads the whole weight)
    return Pair(w1, b1, w2, second.inputs[0], second.outputs[0])


def _bias(var, n_hidden: int, trained: set, clients: dict):
    """``b`` when ``var`` is a trained vector ``b`` of ``n_hidden`` values broadcast over
    rows (``DimShuffle{x,0}``) for one node alone; else None."""
    node = var.owner
    if (node is None or not isinstance(node.op, DimShuffle)
            or tuple(node.op.new_order) != ("x", 0) or len(clients.get(id(var), [])) != 1):
        return None
    b = node.inputs[0]
    return b if id(b) in trained and b.type.shape == (n_hidden,) else None


def plan(outputs: list, params: list, state_updates: list, optimizer, comm) -> "Split | None":
    """The split step of ``outputs`` (the loss first) when the plan applies (see the module
    docstring); None to take the row-sharded step."""
    from core.compile.shared import SharedVariable
    from core.scan.op import Scan
    from core.tensor import collective, random

    if not collective.shares_memory(comm) or state_updates:
        return None  # several machines, statistics to average: row-sharded
    for node in toposort(outputs):
        if (isinstance(node.op, (Scan, random.RandomVariable))
                or type(node.op).__module__ == collective.__name__):
            return None  # a loop; a random draw each process would make its own
    # every weight the step reads, frozen ones too: those outside the pair run whole
    weights = [v for v in graph_inputs(outputs) if isinstance(v, SharedVariable)]
    if any(w.ndim > 2 or None in w.type.shape for w in weights):
        return None  # convolutions
    pair = find_pair(outputs, params)
    if pair is None or pair.w1.type.shape[1] < comm.Get_size():
        return None  # (fewer hidden units than processes: some would hold none)
    split = [w for w in (pair.w1, pair.w2, pair.b1) if w is not None]
    ids = {id(w) for w in split}
    rest = sum(int(np.prod(w.type.shape)) for w in weights if id(w) not in ids)
    if rest > SMALL_REST * (int(np.prod(pair.w1.type.shape)) + int(np.prod(pair.w2.type.shape))):
        return None  # the rest, run whole on every process, would cost more than it saves
    states = sharded.row_wise(optimizer, params)  # (all: the optimizer builds for them)
    if (any(id(w) not in states for w in split)
            or not sharded.fits(comm, [v for w in split for v in states[id(w)]])):
        return None  # an update that mixes the weight's entries (clipnorm), a full /dev/shm
    return Split(outputs, params, pair, states, comm)


class Split:
    """A step's graph with its Dense pair split: ``outputs`` (the loss first) and the
    gradients of ``params`` (stand-ins for the split weights, whose updates ``shard``
    rebuilds for this process's blocks)."""

    def __init__(self, outputs: list, params: list, pair: Pair, states: dict, comm):
        from backends.numpy.shared_rows import block_rows

        size, rank = comm.Get_size(), comm.Get_rank()
        self.comm = comm
        units = block_rows(pair.w1.type.shape[1], size, rank)
        axes = {w: axis for w, axis in ((pair.w1, 1), (pair.w2, 0), (pair.b1, 0))
                if w is not None}  # W1's columns, W2's rows, b1's entries
        blocks = {w: sharded.block_variable(w, units, axis) for w, axis in axes.items()}
        (hidden,), _ = clone_replace([pair.hidden], blocks)
        products = exchange_product(hidden, blocks[pair.w2], size, rank)
        self.outputs, _ = clone_replace(outputs, {pair.product: T.add(*products)})
        split_ids = {id(w) for w in blocks}
        kept = [p for p in params if id(p) not in split_ids]
        grads = T.grad(self.outputs[0], kept + list(blocks.values()),
                       disconnected_inputs="ignore")
        found = dict(zip(map(id, kept), grads[:len(kept)]))
        stand_ins = {id(w): w.type() for w in blocks}
        self.grads = [found[id(p)] if id(p) in found else stand_ins[id(p)] for p in params]
        self.blocks = [sharded.Block(w, states[id(w)], units, axes[w], stand_ins[id(w)], g, b)
                       for (w, b), g in zip(blocks.items(), grads[len(kept):])]

    def shard(self, updates: list) -> tuple[list, "sharded.ShardedWeights | None"]:
        """``updates`` (the optimizer's for every weight) with the split weights' and their
        slots' rebuilt for this process's blocks, and the windows that hold them."""
        from backends.numpy import shared_windows

        shared_windows.collect(self.comm, garbage=True)  # a dropped model's windows
        updates, weights = sharded.shard_blocks(updates, self.blocks, self.comm)
        if weights is None or len(weights.entries) != sum(len(b.state) for b in self.blocks):
            raise RuntimeError("split_pair: the split weights' updates could not be rebuilt "
                               "for their blocks (plan should have refused this step)")
        return updates, weights
