"""Atomic file writes: write a temporary file in the target's folder, then rename it.

A crash, an exception or a full disk midway leaves the previous file untouched,
because ``os.replace`` within one folder is atomic on POSIX and Windows.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Iterator


@contextlib.contextmanager
def atomic_path(filepath: str | os.PathLike, overwrite: bool = True) -> Iterator[str]:
    """Yield a temporary path next to ``filepath``; rename it over ``filepath`` on success.

    On any exception the temporary file is removed and ``filepath`` is unchanged.

    Examples
    --------
    >>> with atomic_path('model.weights.h5') as tmp:
    ...     write_h5(tmp)
    """
    filepath = os.fspath(filepath)
    if not overwrite and os.path.exists(filepath):
        raise ValueError(f"save: {filepath!r} exists and overwrite=False")
    directory = os.path.dirname(os.path.abspath(filepath))
    if not os.path.isdir(directory):
        raise ValueError(f"save: the folder {directory!r} of {filepath!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix="-" + os.path.basename(filepath),
                               dir=directory)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, filepath)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
