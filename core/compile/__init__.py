"""Compilation: ``function``, ``In``, ``shared``, ``NanGuardMode``."""
from .function import Function, In, function
from .nanguard import NanGuardMode
from .shared import SharedVariable, shared
