"""Generated Python source compiled once per machine: code objects cached on disk.

The linker and the C backend generate a small Python function per compiled function
and per elementwise node; ``compile()`` took about 1 ms for each, a quarter of a
warm-cache compile. The code objects are kept, marshalled, under
``compiledir/py`` by a hash of the source, the file name and the Python version
(a marshal file is only valid for the interpreter that wrote it), and in memory.
"""
from __future__ import annotations

import hashlib
import marshal
import os
import sys
import types
import warnings

from core.config import config

_memory: dict = {}
_TAG = f"{sys.implementation.cache_tag}-{sys.version_info.releaselevel}{sys.version_info.serial}"


def compile_cached(source: str, filename: str):
    """``compile(source, filename, 'exec')``, from the memory or the disk cache when seen."""
    key = hashlib.sha1(f"{_TAG}\0{filename}\0{source}".encode()).hexdigest()
    code = _memory.get(key)
    if code is not None:  # a distinct object: callers map tracebacks by code identity
        return code.replace()
    folder = os.path.join(config.compiledir, "py", key[:2])
    path = os.path.join(folder, key + ".marshal")
    code = _load(path)
    if code is None:
        code = compile(source, filename, "exec")
        try:
            os.makedirs(folder, exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as f:
                f.write(marshal.dumps(code))
            os.replace(tmp, path)  # readers see a whole file or none
        except OSError:
            pass  # an unwritable cache folder only costs the next process a compile
    _memory[key] = code
    return code


def _load(path: str):
    """The code object cached at ``path``; None when absent, or damaged (said once)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:  # unreadable, or a folder in its place
        return _damaged(path, exc)
    try:
        code = marshal.loads(data)
    except (EOFError, ValueError, TypeError) as exc:  # truncated or random bytes
        return _damaged(path, exc)
    if not isinstance(code, types.CodeType):  # bytes that happen to decode to a value
        return _damaged(path, f"it holds a {type(code).__name__}, not code")
    return code


def _damaged(path: str, why) -> None:
    warnings.warn(f"compile cache: {path} is damaged ({why}); compiling again", RuntimeWarning,
                  stacklevel=4)
    if os.path.isdir(path):  # a folder where the file belongs: make room for the new one
        import shutil

        shutil.rmtree(path, ignore_errors=True)
    return None
