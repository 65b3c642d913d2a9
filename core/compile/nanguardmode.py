"""Theano's import path: ``core.compile.nanguardmode.NanGuardMode``."""
from .nanguard import NanGuardError, NanGuardMode

__all__ = ["NanGuardMode", "NanGuardError"]
