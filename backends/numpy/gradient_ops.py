"""Kernel of the gradient-changing identities (``core.gradient_ops``): the value itself."""
from __future__ import annotations

from core.gradient_ops import GradientOp

from . import registry


@registry.register(GradientOp)
def identity_kernel(node):
    return lambda x: x
