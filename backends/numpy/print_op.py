"""Print kernel: prints the requested attributes, returns the input unchanged."""
from __future__ import annotations

import sys

from core.print_op import Print

from . import registry


@registry.register(Print)
def print_kernel(node):
    op = node.op

    def kernel(x):
        if op.global_fn is not None:
            op.global_fn(op, x)
            return x
        for attr in op.attrs:
            value = getattr(x, attr)
            if callable(value):
                value = value()
            sys.stdout.write(f"{op.message} {attr} = {value}\n")
        return x

    return kernel
