"""The C kernels at two threads (the worker pool of backends/c/workers.py) give the results
they give at one: dense products split in column or row blocks (equal up to rounding),
elementwise loops in chunks (equal), errors raised from a worker's chunk."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

import core.tensor as T
from backends.c import workers
from core import function
from core.config import config

from c_helpers import backend, needs_cc

pytestmark = needs_cc


def _at_threads(f, args, n):
    with config.change_flags(threads=n):
        return f(*args)


# (m, k, n): C's columns split (n >= m), rows split (m > n), and one below the threshold
SHAPES = [(128, 300, 512), (520, 200, 130), (16, 16, 16)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("m,k,n", SHAPES)
@pytest.mark.parametrize("layout", ["plain", "transposed"])
def test_dot_at_two_threads_matches_one_thread_and_numpy(dtype, m, k, n, layout):
    rng = np.random.default_rng(m + k + n)
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    if layout == "transposed":  # x.T and y.T views: BLAS takes them as transposed operands
        a, b = np.ascontiguousarray(a.T).T, np.ascontiguousarray(b.T).T
    x, y = T.matrix(dtype=dtype), T.matrix(dtype=dtype)
    with backend("c"):
        f = function([x, y], T.dot(x, y))
    one, two = _at_threads(f, (a, b), 1), _at_threads(f, (a, b), 2)
    # a block's edge rows or columns may take BLAS's edge kernels: equal up to rounding
    tol = 1e-4 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(two, one, rtol=tol, atol=tol * k)
    np.testing.assert_allclose(one, a @ b, rtol=tol, atol=tol * k)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_momentum_step_at_two_threads_matches_one_thread(dtype):
    """The Gemm that accumulates x.T @ d into the velocity, and the update loops."""
    rng = np.random.default_rng(1)
    x0, d0 = rng.standard_normal((128, 600)).astype(dtype), rng.standard_normal((128, 512))
    results = []
    for n in (1, 2):
        from core import shared

        w = shared(np.ones((600, 512), dtype))
        v = shared(np.full((600, 512), 0.5, dtype))
        x, d = T.matrix(dtype=dtype), T.matrix(dtype=dtype)
        v_new = 0.9 * v - 0.01 * T.dot(x.T, d)
        with backend("c"):
            step = function([x, d], [], updates=[(v, v_new), (w, w + v_new)])
        with config.change_flags(threads=n):
            for _ in range(3):
                step(x0, d0.astype(dtype))
        results.append((w.get_value(), v.get_value()))
    tol = 1e-5 if dtype == "float32" else 1e-12
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_elementwise_loop_at_two_threads_matches_one_thread():
    x = T.dvector("x")
    with backend("c"):
        f = function([x], T.exp(x) * 2 + T.tanh(x))
    data = np.linspace(-3, 3, 1_000_003)
    np.testing.assert_array_equal(_at_threads(f, (data,), 2), _at_threads(f, (data,), 1))
    np.testing.assert_allclose(f(data), np.exp(data) * 2 + np.tanh(data), rtol=1e-12,
                               atol=1e-14)


def test_an_error_in_a_threaded_loop_is_raised():
    x, e = T.lvector("x"), T.lvector("e")
    with backend("c"):
        f = function([x, e], x ** e)
    base, exps = np.full(1_000_000, 2, "int64"), np.ones(1_000_000, "int64")
    exps[-5] = -1  # in the last chunk: a worker's or the caller's, the error is reported
    with config.change_flags(threads=2):
        with pytest.raises(ValueError, match="negative integer powers"):
            f(base, exps)
        np.testing.assert_array_equal(f(base, np.ones_like(exps)), base)


def test_the_pool_is_wanted_only_for_several_threads():
    with config.change_flags(threads=1):
        assert not workers.wanted()
    with config.change_flags(threads=2):
        assert workers.wanted()
        assert workers.run_address() != 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_a_forked_child_runs_pooled_products():
    """The child has none of the parent's workers: its jobs start new ones (or run alone)."""
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((256, 300)), rng.standard_normal((300, 512))
    x, y = T.dmatrix("x"), T.dmatrix("y")
    with backend("c"), config.change_flags(threads=2):
        f = function([x, y], T.dot(x, y))
        f(a, b)  # the pool's workers start in the parent
        pid = os.fork()
        if pid == 0:  # the child: exit status 0 when the product is right
            ok = np.allclose(f(a, b), a @ b, rtol=1e-12, atol=1e-9)
            os._exit(0 if ok else 1)
        for _ in range(600):  # a child stuck on a lock held at the fork must not hang the suite
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
    assert os.waitstatus_to_exitcode(status) == 0
