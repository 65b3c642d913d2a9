"""Shared helpers: compile nodes with the C and the numpy backend and compare."""
from __future__ import annotations

import contextlib

import numpy as np
import pytest

import backends
from backends.c import compiler
from core.config import config

needs_cc = pytest.mark.skipif(compiler.compiler() is None, reason="no C compiler")


@contextlib.contextmanager
def backend(name: str, eager: bool = True):
    """Compile functions with backend ``name``; ``eager``: C modules build at the first call."""
    import backends.c as c

    old, old_work = config.backend, c.LAZY_WORK
    config.backend = name
    if eager:
        c.LAZY_WORK = 0
    try:
        yield
    finally:
        config.backend = old
        c.LAZY_WORK = old_work


def c_and_numpy_kernels(nodes):
    """The C kernels of ``nodes`` (compiled as one module) and their numpy references."""
    return backends.make_kernels(nodes, "c", lazy=False), backends.make_kernels(nodes, "numpy")


def assert_same(got, want, dtype, what="", tol=None):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    if np.dtype(dtype).kind == "f" or got.dtype.kind == "f":
        if tol is None:
            tol = 2e-5 if np.float32 in (np.dtype(dtype).type, got.dtype.type) else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def layouts(x: np.ndarray):
    """The same values as contiguous, transposed-in-memory and sliced-with-steps arrays."""
    yield "contiguous", x
    if x.ndim >= 2:
        yield "fortran", np.asfortranarray(x)
    big = np.empty(tuple(2 * s for s in x.shape), x.dtype)
    view = big[tuple(slice(None, None, 2) for _ in x.shape)]
    view[...] = x
    yield "strided", view
    if x.ndim >= 1:
        rev = np.ascontiguousarray(x[::-1])[::-1]
        yield "reversed", rev
