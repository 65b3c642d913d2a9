"""Source traces: the first stack frame outside this library.

Every variable remembers where the user created it, so that errors raised
while building or running a graph can point at the user's own line. Variables
created inside ``with scope(name):`` also carry ``tag.scope`` (nested scopes
joined by '/'; a layer's name), kept through rewrites like the trace.
"""
from __future__ import annotations

import contextlib
import linecache
import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_PACKAGE_DIRS = tuple(
    os.path.join(_ROOT, name) + os.sep for name in ("core", "backends", "layers_on_graph")
)


_IN_LIBRARY: dict[str, bool] = {}  # filename -> whether it belongs to the library


def user_frame(frame=None) -> tuple[str, int, str] | None:
    """Return ``(filename, lineno, function)`` of the innermost frame outside the library,
    from the caller's frame out, or from ``frame`` out (another thread's, say)."""
    frame = sys._getframe(1) if frame is None else frame
    inside = _IN_LIBRARY
    while frame is not None:
        filename = frame.f_code.co_filename
        hidden = inside.get(filename)
        if hidden is None:
            hidden = inside[filename] = filename.startswith(_PACKAGE_DIRS) or filename.startswith(
                ("<frozen", "<layers_on_graph"))
        if not hidden:
            return (filename, frame.f_lineno, frame.f_code.co_name)
        frame = frame.f_back
    return None


def format_trace(trace: tuple[str, int, str] | None) -> str:
    """Render a trace as ``File "x.py", line 3, in f: <source line>``."""
    if trace is None:
        return "(created inside the library; no user source line known)"
    filename, lineno, func = trace
    line = linecache.getline(filename, lineno).strip()
    text = f'File "{filename}", line {lineno}, in {func}'
    return f"{text}\n    {line}" if line else text


SCOPES: list[str] = []  # the open scopes, outermost first (read by Variable.__init__)


@contextlib.contextmanager
def scope(name: str):
    """Label the variables created inside with ``tag.scope`` (a layer does, with its name).

    Examples
    --------
    >>> with scope("encoder"):
    ...     h = T.tanh(x)
    >>> h.tag.scope
    'encoder'
    """
    SCOPES.append(str(name))
    try:
        yield
    finally:
        SCOPES.pop()
