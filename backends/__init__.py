"""Kernel backends behind one seam: numpy (the reference), c (C through cffi), cuda (cupy).

Each backend is a ``Backend`` object (``backends/base.py``) in a registry by name
(``get_backend``); core reaches backends only through these functions. A backend's
kernels come from ``make_kernels(nodes)``, all kernels of one function at once, so
that a compiling backend makes one compiler call. Backends other than numpy are
imported only when first asked for: the package imports without cffi or cupy.
"""
from __future__ import annotations

import warnings
from typing import Sequence

from .base import Backend, BackendUnavailable, Kernel, MissingBackend
from .registry import KernelRegistry, backend_names, get_backend, register_backend


def _numpy():
    from .numpy.backend import NumpyBackend

    return NumpyBackend()


def _c():
    try:
        from .c.backend import CBackend
    except ImportError as exc:  # backends.c needs cffi
        return MissingBackend("c", f"the C backend needs cffi ({exc})")
    return CBackend()


def _cuda():
    from .cuda.backend import CudaBackend

    return CudaBackend()


register_backend("numpy", _numpy)
register_backend("c", _c)
register_backend("cuda", _cuda)
BACKENDS = backend_names()

__all__ = ["Backend", "BackendUnavailable", "Kernel", "KernelRegistry", "get_backend", "register_backend",
           "make_kernel", "make_kernels", "default_backend", "compile_seconds", "get_registry"]


def get_registry(name: str) -> KernelRegistry:
    """The kernel registry of the numpy backend (the reference every other one is tested
    against)."""
    if name == "numpy":
        from .numpy import registry

        return registry
    raise ValueError(f"unknown backend {name!r} (kernel registries: 'numpy')")


def make_kernel(node, backend: str = "numpy") -> Kernel:
    """A kernel for ``node`` from ``backend``, built at once."""
    return get_backend(backend).make_kernel(node)


def make_kernels(nodes: Sequence, backend: str = "numpy", lazy: bool = True) -> list[Kernel]:
    """One kernel per node of one function, in order, from ``backend``.

    ``lazy``: a compiling backend may build its module when a kernel first meets
    enough work (see ``backends.c``).
    """
    return get_backend(backend).make_kernels(list(nodes), lazy=lazy)


def compile_seconds() -> float:
    """Seconds this process spent compiling kernels so far (every backend loaded)."""
    from .registry import _BACKENDS

    return sum(b.compile_seconds() for b in list(_BACKENDS.values()))


_warned: set = set()


def _runnable(name: str, flag: str) -> str:
    reason = get_backend(name).unavailable_reason()
    if reason is not None:
        raise BackendUnavailable(f"core.config.{flag}={name!r}: {reason}")
    return name


def default_backend(mode: str) -> str:
    """The backend ``function`` uses for ``mode``, following ``core.config``.

    ``device='cuda'`` (any device but 'cpu'): the backend of that name
    (``BackendUnavailable`` says what is missing).
    Else ``backend``: 'auto' picks C for FAST_RUN when it can run here (else numpy, with
    one warning), numpy for FAST_COMPILE; 'c' or 'numpy' force one; any other registered
    name is that backend (``BackendUnavailable`` when it cannot run).
    """
    from core.config import config

    if config.device != "cpu":  # a device is the backend of its name ('cuda')
        return _runnable(config.device, "device")
    choice = config.backend
    if choice == "numpy" or (choice == "auto" and mode == "FAST_COMPILE"):
        return "numpy"
    if choice not in ("auto", "c"):
        if choice not in backend_names():
            raise ValueError(f"core.config.backend must be 'auto' or a backend name "
                             f"{backend_names()}, got {choice!r}")
        return _runnable(choice, "backend")
    reason = get_backend("c").unavailable_reason()
    if reason is None:
        return "c"
    message = (f"C backend: {reason}; compiled functions run the numpy kernels "
               f"(reported once per process)")
    try:
        from .c.compiler import warn_once
    except ImportError:  # no cffi
        if "no-c" not in _warned:
            _warned.add("no-c")
            warnings.warn(message, RuntimeWarning, stacklevel=3)
    else:
        warn_once("no-compiler", message)
    return "numpy"
