"""Kernel backends: numpy (the reference) and c (cffi); a cuda (cupy) backend is planned.

A backend is a registry mapping Op classes to kernel factories. A factory
takes an ``Apply`` node and returns a callable over the input arrays that
returns the output array (or a tuple of arrays for several outputs).
``make_kernels`` asks for all kernels of one function at once, so that the C
backend compiles them in one compiler call.
"""
from __future__ import annotations

from typing import Sequence

from .registry import KernelRegistry

BACKENDS = ("numpy", "c")


def get_registry(name: str) -> KernelRegistry:
    """The kernel registry of backend ``name`` ('numpy', ...)."""
    if name == "numpy":
        from .numpy import registry

        return registry
    raise ValueError(f"unknown backend {name!r}; available: 'numpy'")


def make_kernel(node, backend: str = "numpy"):
    """A kernel for ``node`` from ``backend``."""
    if backend == "c":
        from . import c

        return c.make_kernels([node], lazy=False)[0]
    return get_registry(backend).make_kernel(node)


def make_kernels(nodes: Sequence, backend: str = "numpy", lazy: bool = True) -> list:
    """One kernel per node of one function, in order.

    ``backend='c'`` compiles every C kernel of ``nodes`` in one module (one
    compiler call, cached on disk); nodes without one get their numpy kernel.
    ``lazy``: compile when a kernel first meets a large input (see ``backends.c``).
    """
    if backend == "c":
        from . import c

        return c.make_kernels(list(nodes), lazy=lazy)
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; available: {BACKENDS}")
    registry = get_registry(backend)
    return [registry.make_kernel(node) for node in nodes]


def compile_seconds() -> float:
    """Seconds this process spent building (or loading) C modules so far."""
    import sys

    compiler = sys.modules.get("backends.c.compiler")
    return compiler.COMPILE_SECONDS[0] if compiler is not None else 0.0


def default_backend(mode: str) -> str:
    """The backend ``function`` uses for ``mode``, following ``core.config.backend``.

    'auto': the C backend for FAST_RUN when a C compiler is present (else numpy,
    with one warning), numpy for FAST_COMPILE. 'c' or 'numpy' force one.
    """
    from core.config import config

    choice = config.backend
    if choice == "numpy" or (choice == "auto" and mode == "FAST_COMPILE"):
        return "numpy"
    if choice not in ("auto", "c"):
        raise ValueError(f"core.config.backend must be 'auto', 'c' or 'numpy', got {choice!r}")
    from . import c

    if c.available():
        return "c"
    from .c.compiler import warn_once

    warn_once("no-compiler", "C backend: no C compiler found ($CC, cc, gcc, clang); compiled "
                             "functions run the numpy kernels (reported once per process)")
    return "numpy"
