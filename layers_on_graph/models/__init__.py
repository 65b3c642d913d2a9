"""Models: ``Sequential``, functional/subclassed ``Model``."""
from .functional import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential"]
