"""AllReduce kernel: ``MPI_Allreduce`` (sum) through mpi4py, or a copy on one process."""
from __future__ import annotations

import numpy as np

from core.tensor.collective import AllReduce, get_communicator

from . import registry


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
