"""Compilation: ``function``, ``In``, ``Out``, ``shared``, ``NanGuardMode``."""
from .function import Function, In, Out, function
from .nanguard import NanGuardMode
from .shared import SharedVariable, shared
