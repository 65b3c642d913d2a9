"""Compilation: ``function``, ``In``, ``shared``."""
from .function import Function, In, function
from .shared import SharedVariable, shared
