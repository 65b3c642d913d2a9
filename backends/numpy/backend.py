"""The numpy backend as a ``Backend``: the reference kernel of every op, on the host."""
from __future__ import annotations

from ..base import Backend, Kernel


class NumpyBackend(Backend):
    name = "numpy"

    def make_kernels(self, nodes, lazy=True):
        return [self.make_kernel(node) for node in nodes]

    def make_kernel(self, node):
        from . import registry

        return Kernel(registry.make_kernel(node), "numpy")
