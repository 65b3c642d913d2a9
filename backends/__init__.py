"""Kernel backends: numpy (the reference), c (cffi), cuda (cupy).

A backend is a registry mapping Op classes to kernel factories. A factory
takes an ``Apply`` node and returns a callable over the input arrays that
returns the output array (or a tuple of arrays for several outputs).
"""
from __future__ import annotations

from .registry import KernelRegistry


def get_registry(name: str) -> KernelRegistry:
    """The kernel registry of backend ``name`` ('numpy', ...)."""
    if name == "numpy":
        from .numpy import registry

        return registry
    raise ValueError(f"unknown backend {name!r}; available: 'numpy'")


def make_kernel(node, backend: str = "numpy"):
    """A kernel for ``node`` from ``backend``."""
    return get_registry(backend).make_kernel(node)
