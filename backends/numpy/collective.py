"""AllReduce kernels: ``MPI_Allreduce`` (sum) through mpi4py, or a copy on one process."""
from __future__ import annotations

import numpy as np

from core.tensor.collective import AllReduce, PackedAllReduce, get_communicator

from . import registry
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


@registry.register(PackedAllReduce)
def packed_allreduce_kernel(node):
    dtype = np.dtype(node.outputs[0].dtype)
    # Two buffers taken in turn: the views the graph took of last call's output live until
    # this call replaces them, so one buffer would never be free. A reused buffer saves
    # the page faults of a fresh one and MPI's registration of new memory.
    buffers, turn = Buffers(), [0]

    def kernel(*tensors):
        sizes = [t.size for t in tensors]
        turn[0] ^= 1
        out = buffers.empty(turn[0], (sum(sizes),), dtype)
        offset = 0
        for t, size in zip(tensors, sizes):
            out[offset:offset + size] = t.reshape(-1)
            offset += size
        comm = get_communicator()
        if comm is not None and comm.Get_size() > 1:
            from mpi4py import MPI

            comm.Allreduce(MPI.IN_PLACE, out)
        return out

    return kernel
