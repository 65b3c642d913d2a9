"""KernelRegistry: Op class -> kernel factory, filled by decorators."""
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
        for cls in type(op).__mro__:
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
