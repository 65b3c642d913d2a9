"""KernelSpec: what a C kernel generator hands to the module builder."""
from __future__ import annotations

from typing import Callable

from .compiler import ffi

ffi_from_buffer = ffi.from_buffer

STATUS_MESSAGES = {
    1: "Integers to negative integer powers are not allowed",
    2: "labels out of range",
}


class KernelSpec:
    """C source for one node and how to turn its compiled functions into a kernel.

    ``source`` names its functions ``@K@_<suffix>``; ``symbols`` lists
    ``(suffix, signature)`` with signature letters 'i' (intptr_t) and 'p'
    (char *); ``bind(function_pointers) -> kernel`` builds the Python callable.
    """

    __slots__ = ("source", "symbols", "bind")

    def __init__(self, source: str, symbols: list[tuple[str, str]], bind: Callable):
        self.source, self.symbols, self.bind = source, symbols, bind


def raise_status(node, status: int, detail: str = ""):
    """Turn a C kernel's nonzero return status into the ValueError the numpy kernel raises."""
    msg = STATUS_MESSAGES.get(status, f"C kernel failed with status {status}")
    raise ValueError(f"{node.op}: {msg}{detail}")
