"""AllReduce kernels: ``MPI_Allreduce`` (sum) through mpi4py, or a copy on one process.

Packed ones fill one reused buffer (tensors copied, products computed into it by BLAS)
and reduce it in place."""
from __future__ import annotations

import numpy as np

from core.tensor.collective import (AllReduce, PackedAllReduce, PackedProductsAllReduce,
                                    get_communicator)

from . import registry, shared_allreduce
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
    buffers, turn, shared = Buffers(), [0], [None]

    def kernel(*inputs):
        groups = parts(inputs)
        sizes = [p[0].size if len(p) == 1 else p[0].shape[0] * p[1].shape[1] for p in groups]
        size = sum(sizes)
        turn[0] ^= 1
        out = buffers.empty(turn[0], (size,), dtype)
        comm = get_communicator()
        many = comm is not None and comm.Get_size() > 1
        if many and shared_allreduce.on_one_machine(comm):
            if shared[0] is None or (shared[0].comm, shared[0].size) != (comm, size):
                shared[0] = shared_allreduce.SharedAllreduce(comm, size, dtype)
            _fill(shared[0].segment(turn[0]), groups, sizes)
            shared[0].reduce(turn[0], out)
            return out
        _fill(out, groups, sizes)
        if many:
            from mpi4py import MPI

            comm.Allreduce(MPI.IN_PLACE, out)
        return out

    return kernel


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
