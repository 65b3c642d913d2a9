"""Compile one large module as several translation units at once, one compiler per idle core.

A cold compile is almost all compiler time (the MLP train function: ~0.25 s of gcc -O1 on
one module of 12 kernels). Its kernels split into pieces, each a translation unit that the
compiler turns into an object file while the others compile, and one link makes the
module's library: on an idle 2-core machine the wall time drops to about the largest
piece's. The library is the same cache entry (keyed by the whole source) however it was
built, so splitting depends on how many cores are idle right now, not on anything stored.
A piece costs ~15 ms of fixed compiler time (start, headers, preamble) and the link ~10 ms,
so on a busy machine, or for a small module, the module compiles in one call as before.

``module_source`` marks the parts: ``KERNEL`` before each kernel's source, ``TABLE``
before the table of entry points; everything before the first kernel is the preamble
every piece starts with.
"""
from __future__ import annotations

import os
import re

KERNEL = "/*@lg-kernel@*/\n"
TABLE = "/*@lg-table@*/\n"
MIN_PIECE_CHARS = 6000  # kernel source per piece, ~50 ms of gcc -O1 at ~9 ms per 1000 chars
MAX_PIECES = 4


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def idle_cores() -> int:
    """Cores not running anything else at this moment (at least 1): the usable cores less
    the other runnable tasks counted in /proc/loadavg (this process is one of them)."""
    cores = usable_cores()
    try:
        with open("/proc/loadavg") as f:
            running = int(f.read().split()[3].split("/")[0]) - 1
    except (OSError, ValueError, IndexError):
        running = round(os.getloadavg()[0]) if hasattr(os, "getloadavg") else cores - 1
    return max(1, cores - max(0, running))


def split(source: str, max_pieces: int) -> list[str]:
    """``source`` as up to ``max_pieces`` translation units that link into the same module
    (a one-element list when it is not worth splitting or carries no markers)."""
    if max_pieces < 2 or KERNEL not in source or TABLE not in source:
        return [source]
    head, rest = source.split(KERNEL, 1)
    body, table = rest.split(TABLE, 1)
    kernels = body.split(KERNEL)
    n = min(max_pieces, MAX_PIECES, len(kernels), len(body) // MIN_PIECE_CHARS)
    if n < 2:
        return [source]
    loads, members = [0] * n, [[] for _ in range(n)]
    for i in sorted(range(len(kernels)), key=lambda i: -len(kernels[i])):
        j = loads.index(min(loads))  # the largest kernels first, each to the lightest piece
        loads[j] += len(kernels[i])
        members[j].append(i)
    pieces = [[kernels[i] for i in sorted(m)] for m in members]
    # The table goes with the lightest piece and declares the entry points defined in the
    # others (a kernel's source names only its own functions); only their addresses are
    # taken, so `int f()` serves every signature.
    last = loads.index(min(loads))
    text = "".join(pieces[last])
    others = [name for name in dict.fromkeys(_ENTRY.findall(table)) 
              if not re.search(rf"\b{name}\(", text)]
    pieces[last].append("".join(f"int {name}();\n" for name in others) + table)
    return [head + "\n".join(p) for p in pieces]


_ENTRY = re.compile(r"\(void \*\)(\w+)")  # an entry point's address in the table
