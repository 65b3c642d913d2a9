"""Which generated elementwise loops the compiler left scalar (its vectorization report).

Used by the tests: a loop that does not vectorize runs one element (and, for selects,
one branch) at a time, 4-16x slower than its vector form.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile

from . import compiler

# The generated chunk loops (elemwise.py): one per node and, for streaming stores, a second.
_LOOP = re.compile(r"for \(intptr_t j = lo; j < hi; j\+\+\)|for \(int g = 0; g < ")
_FUNC = re.compile(r"static void (\w+)_(chunk|nt)\(")


def scalar_loops(source: str) -> list[str]:
    """``'function: compiler note'`` for each elementwise loop of ``source`` (a module's C)
    that the compiler did not vectorize, compiled with this process's flags."""
    cc = compiler.compiler()
    if cc is None:
        raise RuntimeError("no C compiler")
    lines = source.splitlines()
    loops, func = {}, None
    for i, line in enumerate(lines, 1):
        m = _FUNC.search(line)
        if m:
            func = f"{m.group(1)}_{m.group(2)}"
        if _LOOP.search(line):
            depth, end = 0, i
            for end in range(i, len(lines) + 1):  # the loop's body: up to its closing brace
                depth += lines[end - 1].count("{") - lines[end - 1].count("}")
                if depth <= 0 and end > i:
                    break
            loops[i] = (func, end)
    flags = [f for f in compiler.flags_in_use() if f not in ("-w", "-shared")]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.c")
        with open(path, "w") as f:
            f.write(source)
        proc = subprocess.run([cc, *flags, "-c", "-o", os.devnull,
                               "-fopt-info-vec-all", path], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    vectorized, notes = [], {}
    for line in proc.stderr.splitlines():
        m = re.match(r".*?m\.c:(\d+):\d+: (optimized|missed): (.*)", line)
        if not m:
            continue
        n, kind, text = int(m.group(1)), m.group(2), m.group(3)
        if kind == "optimized" and "loop vectorized" in text:
            vectorized.append(n)
        elif kind == "missed" and "not vectorized" in text:
            notes.setdefault(n, text)
    left = []
    for start, (func, end) in sorted(loops.items()):
        # gcc reports a loop at a line of its body (the first statement, or a hoisted one)
        if not any(start <= n <= end for n in vectorized):
            note = next((t for n, t in sorted(notes.items()) if start <= n <= end),
                        "no vectorization note")
            left.append(f"{func} (line {start}): {note}")
    return left
