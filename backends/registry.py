"""Registries: Op class -> kernel factory (``KernelRegistry``, one per backend), and
backend name -> ``Backend`` (``register_backend`` / ``get_backend``)."""
from __future__ import annotations

from typing import Callable


class KernelRegistry:
    """Maps Op classes to factories ``factory(node) -> kernel``.

    Lookup walks the op's class hierarchy, so a subclass inherits its base's
    kernel unless it registers its own.
    """

    def __init__(self, name: str):
        self.name = name
        self._factories: dict[type, Callable] = {}

    def register(self, *op_classes: type):
        def decorator(factory):
            for cls in op_classes:
                self._factories[cls] = factory
            return factory

        return decorator

    def lookup(self, op) -> Callable | None:
        return self.lookup_class(type(op))

    def lookup_class(self, op_class: type) -> Callable | None:
        """The factory registered for ``op_class`` or its nearest base."""
        for cls in op_class.__mro__:
            factory = self._factories.get(cls)
            if factory is not None:
                return factory
        return None

    def make_kernel(self, node):
        factory = self.lookup(node.op)
        if factory is None:
            raise NotImplementedError(f"the {self.name} backend has no kernel for {node.op}")
        return factory(node)

    def __contains__(self, op_class: type) -> bool:
        return any(c in self._factories for c in op_class.__mro__)


# name -> a function returning the Backend (imported only when first asked for, so the
# package imports without cffi or cupy)
_LOADERS: dict[str, Callable] = {}
_BACKENDS: dict = {}


def register_backend(name: str, loader: Callable) -> None:
    """Make backend ``name`` available; ``loader()`` imports it and returns its ``Backend``."""
    _LOADERS[name] = loader
    _BACKENDS.pop(name, None)


def backend_names() -> tuple[str, ...]:
    return tuple(_LOADERS)


def get_backend(name: str):
    """The ``Backend`` registered as ``name``."""
    backend = _BACKENDS.get(name)
    if backend is None:
        loader = _LOADERS.get(name)
        if loader is None:
            raise ValueError(f"unknown backend {name!r}; available: {backend_names()}")
        backend = _BACKENDS[name] = loader()
    return backend
