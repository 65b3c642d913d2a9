"""AllReduce kernels: ``MPI_Allreduce`` (sum) through mpi4py, or a copy on one process.

Packed ones fill one reused buffer (tensors copied, products computed into it by BLAS)
and reduce it in place."""
from __future__ import annotations

import numpy as np

from core.tensor.collective import (AllReduce, ExchangeProduct, GatherRows, PackedAllReduce,
                                    PackedExchange, PackedProductsAllReduce, Unpack,
                                    get_communicator, shared_memory_fits, shares_memory)

from . import registry, shared_allreduce, shared_rows
from .scan import Buffers


@registry.register(AllReduce)
def allreduce_kernel(node):
    dtype = np.dtype(node.outputs[0].dtype)

    def kernel(x):
        x = np.ascontiguousarray(x, dtype=dtype)
        comm = get_communicator()
        out = np.empty_like(x)
        if comm is None or comm.Get_size() == 1:
            out[...] = x
        else:
            comm.Allreduce(x, out)  # sum is mpi4py's default op
        return out

    return kernel


def _packed_kernel(node, parts):
    """The kernel of a packed allreduce: ``parts(inputs)`` gives each part as ``(x,)`` (a
    tensor, copied into the buffer) or ``(a, b)`` (a product, computed into it)."""
    dtype = np.dtype(node.outputs[0].dtype)
    # Two buffers taken in turn: the views the graph took of last call's output live until
    # this call replaces them, so one buffer would never be free. A reused buffer saves
    # the page faults of a fresh one and MPI's registration of new memory.
    buffers, turn, window = Buffers(), [0], _Window(dtype)

    def kernel(*inputs):
        groups = parts(inputs)
        sizes = _sizes(groups)
        turn[0] ^= 1
        out = buffers.empty(turn[0], (sum(sizes),), dtype)
        comm = get_communicator()
        many = comm is not None and comm.Get_size() > 1
        shared = window.get(comm, sum(sizes)) if many and shares_memory(comm) else None
        if shared is not None:
            _fill(shared.segment(turn[0]), groups, sizes)
            shared.reduce(turn[0], out)
            return out
        _fill(out, groups, sizes)
        if many:
            from mpi4py import MPI

            comm.Allreduce(MPI.IN_PLACE, out)
        return out

    return kernel


class _Window:
    """A node's ``SharedAllreduce``, made again (collectively) when the size changes; None
    when the processes' shared memory cannot hold it."""

    def __init__(self, dtype):
        self.dtype, self.shared, self.refused = dtype, None, None

    def get(self, comm, size: int) -> "shared_allreduce.SharedAllreduce | None":
        if self.shared is not None and self.shared.comm is comm and self.shared.size == size:
            return self.shared
        if self.refused == (id(comm), size):
            return None
        if not shared_memory_fits(comm, shared_allreduce.window_bytes(comm, size, self.dtype)):
            self.refused = (id(comm), size)
            return None
        self.shared = shared_allreduce.SharedAllreduce(comm, size, self.dtype)
        return self.shared


def _sizes(groups: list) -> list[int]:
    return [p[0].size if len(p) == 1 else p[0].shape[0] * p[1].shape[1] for p in groups]


def _fill(buffer: np.ndarray, groups: list, sizes: list) -> None:
    offset = 0
    for p, size in zip(groups, sizes):
        piece = buffer[offset:offset + size]
        if len(p) == 1:
            piece[...] = p[0].reshape(-1)
        else:
            a, b = p
            np.dot(a, b, out=piece.reshape(a.shape[0], b.shape[1]))
        offset += size


@registry.register(PackedAllReduce)
def packed_allreduce_kernel(node):
    return _packed_kernel(node, lambda inputs: [(x,) for x in inputs])


@registry.register(PackedProductsAllReduce)
def packed_products_allreduce_kernel(node):
    return _packed_kernel(node, node.op.parts)


@registry.register(PackedExchange)
def packed_exchange_kernel(node):
    """Fill this process's segment of a shared window, wait for every process, return every
    process's segment (views, read-only by contract: the graph never writes into an
    output of this op, and they stay intact until the call after next)."""
    exchange = _exchanger(node)
    return lambda *inputs: exchange(node.op.parts(inputs))


@registry.register(ExchangeProduct)
def exchange_product_kernel(node):
    """Every process's ``a @ w``, through ``packed_exchange_kernel``'s windows."""
    exchange = _exchanger(node)

    def kernel(a, w):
        shape = (a.shape[0], w.shape[1])
        out = exchange([(a, w)])
        return out.reshape(shape) if node.op.processes == 1 else [o.reshape(shape) for o in out]

    return kernel


def _exchanger(node):
    """The exchange of one node: ``groups`` (``PackedExchange.parts``) in, each process's
    packed vector out (the vector itself when alone); through ``MPI_Allgather`` where the
    machine's shared memory cannot hold the window."""
    dtype, processes = np.dtype(node.outputs[0].dtype), node.op.processes
    name = type(node.op).__name__
    buffers, turn, window = Buffers(), [0], _Window(dtype)

    def exchange(groups):
        comm = get_communicator()
        size = 1 if comm is None else comm.Get_size()
        if size != processes or (size > 1 and not shares_memory(comm)):
            raise RuntimeError(f"{name}: built for {processes} processes on one machine, "
                               f"run by {size} process(es)"
                               f"{'' if size == 1 else ' not all on one machine'}")
        sizes = _sizes(groups)
        turn[0] ^= 1
        if size == 1:
            out = buffers.empty(turn[0], (sum(sizes),), dtype)
            _fill(out, groups, sizes)
            return out
        shared = window.get(comm, sum(sizes))
        if shared is None:  # no room in the machine's shared memory: MPI_Allgather
            mine = buffers.empty(turn[0], (sum(sizes),), dtype)
            _fill(mine, groups, sizes)
            everyone = np.empty((processes, sum(sizes)), dtype)
            comm.Allgather(mine, everyone)
            return list(everyone)
        _fill(shared.segment(turn[0]), groups, sizes)
        return shared.exchange(turn[0])

    return exchange


@registry.register(Unpack)
def unpack_kernel(node):
    pieces, offset = [], 0
    for shape in node.op.shapes:
        size = int(np.prod(shape, dtype=np.int64))
        pieces.append((slice(offset, offset + size), shape))
        offset += size
    if len(pieces) == 1:
        ((part, shape),) = pieces
        return lambda flat: flat[part].reshape(shape)
    return lambda flat: [flat[part].reshape(shape) for part, shape in pieces]


@registry.register(GatherRows)
def gather_rows_kernel(node):
    """Every process's rows of each input: in shared memory on one machine
    (``shared_rows.RowGather``), else ``MPI_Allgather``; alone, copies."""
    gather = shared_rows.RowGather()

    def kernel(*tensors):
        comm = get_communicator()
        size = 1 if comm is None else comm.Get_size()
        if size != node.op.processes:
            raise RuntimeError(f"GatherRows: built for {node.op.processes} processes, run by "
                               f"{size}")
        if size == 1:
            out = [np.array(t) for t in tensors]
        elif not shares_memory(comm):
            out = shared_rows.allgather_padded(comm, list(tensors))
        else:
            out = gather(comm, list(tensors))
        return out if len(out) > 1 else out[0]  # one output: the value itself

    return kernel
