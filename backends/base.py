"""The seam between ``core.compile`` and the backends: one ``Backend`` object per backend.

A backend turns the nodes of one compiled function into kernels (callables over its
arrays) and says how arrays move between the host (numpy) and its memory. ``core``
asks the registry (``backends.registry.get_backend``) by name and never branches on
names; a new backend is one folder with one ``Backend`` subclass and one
``register_backend`` line in ``backends/__init__.py``. ``make_kernels`` returns ``Kernel``
objects: the function a compiled program calls, plus optional capabilities the linker
and the loop drivers ask for (never attributes set on functions).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np


@dataclass(eq=False, slots=True)
class Kernel:
    """One node's kernel, as a backend returns it.

    Attributes
    ----------
    fn : the function over the node's input arrays returning its outputs (one value, or a
        tuple for several); the compiled program calls it directly, so a ``Kernel`` adds
        nothing to the call path.
    runs : what ``fn`` runs on: 'numpy', 'c', 'cuda' (profiles report it per node).
    bind_slot : optional, ``bind_slot(namespace, name)``, called once the linker has put
        ``fn`` at ``namespace[name]``: the kernel may put another function there, now or
        later (a lazy C kernel swaps in the compiled function once its module is built,
        leaving no wrapper per call).
    native : optional, ``native() -> {symbol suffix: address} | None``: the addresses of
        the node's C functions (building them if needed), for loop drivers written in C;
        None where no C function runs the node.
    """

    fn: Callable
    runs: str
    bind_slot: Callable[[dict, str], None] | None = None
    native: Callable[[], dict | None] | None = None

    def __call__(self, *args):
        return self.fn(*args)

    def wrapped(self, fn: Callable) -> "Kernel":
        """A kernel running ``fn`` (which calls this one) in its place: the same ``runs``,
        no capability (binding a slot or calling C directly would skip ``fn``)."""
        return Kernel(fn, self.runs)


class BackendUnavailable(RuntimeError):
    """The backend cannot run here (a missing package, compiler or device); says which."""


class Backend:
    """Kernels and array transfers of one backend.

    Subclasses set ``name`` and implement ``make_kernels``; a backend whose arrays do
    not live in host memory sets ``on_host = False`` and implements ``to_device`` and
    ``to_host``.
    """

    name: str = ""
    on_host: bool = True  # arrays are numpy ndarrays in host memory

    def available(self) -> bool:
        """True when the backend can run in this process."""
        return self.unavailable_reason() is None

    def unavailable_reason(self) -> str | None:
        """Why the backend cannot run here (which package, compiler or device is
        missing), or None when it can."""
        return None

    def make_kernels(self, nodes: Sequence, lazy: bool = True) -> list[Kernel]:
        """One kernel per node of one function, in order (built together, so that a
        compiling backend makes one compiler call)."""
        raise NotImplementedError

    def make_kernel(self, node) -> Kernel:
        """The kernel of one node, built at once."""
        return self.make_kernels([node], lazy=False)[0]

    def to_device(self, array: np.ndarray) -> Any:
        """``array`` in this backend's memory (the array itself on the host)."""
        return array

    def to_host(self, array: Any) -> np.ndarray:
        """A backend array as a numpy array (the array itself on the host)."""
        return array

    def is_device_array(self, value: Any) -> bool:
        """True for an array already in this backend's memory (off-host backends)."""
        return False

    def copy_into(self, target: Any, array: np.ndarray) -> None:
        """Copy host ``array`` into the backend array ``target`` (same shape and dtype)."""
        target[...] = array

    def native_loop(self, program, loop: Callable, kind: str, counts: tuple) -> Callable | None:
        """A faster replacement for a scan driver's generated step ``loop`` ('forward' or
        'backward') over ``program``'s kernels, or None (the generated loop runs)."""
        return None

    def compile_seconds(self) -> float:
        """Seconds this process spent compiling this backend's kernels."""
        return 0.0


class MissingBackend(Backend):
    """Stands for a backend whose package could not be imported; says why when used."""

    def __init__(self, name: str, reason: str):
        self.name, self._reason = name, reason

    def unavailable_reason(self) -> str:
        return self._reason

    def make_kernels(self, nodes, lazy=True):
        raise BackendUnavailable(f"the {self.name} backend cannot run: {self._reason}")
