"""Kernels that need no device code: the gradient-changing identities, ``Print`` (the
numpy kernel prints a host copy, the device value passes on), and the MPI collectives
staged through host memory (NCCL would keep them on the device)."""
from __future__ import annotations

import cupy as cp

from core.gradient_ops import GradientOp
from core.print_op import Print
from core.tensor.collective import (AllReduce, ExchangeProduct, GatherRows, PackedAllReduce,
                                    PackedExchange, Unpack)

from ..numpy import registry as numpy_registry
from .kernels import registry


@registry.register(GradientOp)
def identity_kernel(node):
    return lambda x: x


@registry.register(Print)
def print_kernel(node):
    on_host = numpy_registry.make_kernel(node)  # prints as the CPU backends do

    def kernel(x):
        on_host(cp.asnumpy(x))  # one copy back per call: Print is for looking, not speed
        return x

    return kernel


@registry.register(AllReduce, PackedAllReduce)
def host_staged_allreduce_kernel(node):
    on_host = numpy_registry.make_kernel(node)

    def kernel(*tensors):
        return cp.asarray(on_host(*[cp.asnumpy(t) for t in tensors]))

    return kernel


@registry.register(PackedExchange, GatherRows, ExchangeProduct)
def host_staged_exchange_kernel(node):
    on_host = numpy_registry.make_kernel(node)
    several = len(node.outputs) > 1

    def kernel(*tensors):
        out = on_host(*[cp.asnumpy(t) for t in tensors])
        return [cp.asarray(o) for o in out] if several else cp.asarray(out)

    return kernel


@registry.register(Unpack)
def unpack_kernel(node):
    return numpy_registry.make_kernel(node)  # slices and reshapes: views on the device too
