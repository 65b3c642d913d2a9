"""The C Gemm kernel (one cblas gemm call) against the numpy reference."""
from __future__ import annotations

import numpy as np
import pytest

import core.tensor as T
from core.tensor.blas import Gemm

from c_helpers import assert_same, backend, c_and_numpy_kernels, layouts, needs_cc

pytestmark = needs_cc


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("inplace", [False, True])
def test_gemm_on_every_operand_layout(dtype, inplace):
    rng = np.random.default_rng(2)
    z, x, y = (T.matrix(n, dtype=dtype) for n in "zxy")
    a, b = T.scalar("a", dtype=dtype), T.scalar("b", dtype=dtype)
    (kc,), (kn,) = c_and_numpy_kernels([Gemm(inplace).make_node(z, a, x, y, b)])
    zv, xv, yv = (rng.normal(size=s).astype(dtype) for s in ((5, 4), (5, 3), (3, 4)))
    av, bv = np.asarray(-0.5, dtype), np.asarray(0.75, dtype)
    want = kn(zv.copy(), av, xv, yv, bv)
    for (_, xl), (_, yl) in zip(layouts(xv), layouts(yv)):
        target = zv.copy()
        got = kc(target, av, xl, yl, bv)
        assert_same(got, want, dtype)
        assert (got is target) == inplace  # inplace: accumulated into z's own buffer
        if not inplace:
            np.testing.assert_array_equal(target, zv)
    fortran_z = np.asfortranarray(zv)
    got = kc(fortran_z, av, xv, yv, bv)  # column-major: z.T accumulated in place
    assert_same(got, want, dtype)
    assert (got is fortran_z) == inplace


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_inplace_gemm_accumulates_into_a_block_of_columns_where_it_lies(dtype):
    # a column-split weight's block: each row contiguous, rows a whole row of the matrix
    # apart (C), or the transpose of a block of rows (column-major, as shared windows hold
    # it): both kernels write it in place, leaving the other columns alone
    rng = np.random.default_rng(3)
    z, x, y = (T.matrix(n, dtype=dtype) for n in "zxy")
    a, b = T.scalar("a", dtype=dtype), T.scalar("b", dtype=dtype)
    kernels = c_and_numpy_kernels([Gemm(True).make_node(z, a, x, y, b)])
    xv, yv = rng.normal(size=(6, 3)).astype(dtype), rng.normal(size=(3, 4)).astype(dtype)
    av, bv = np.asarray(-0.5, dtype), np.asarray(0.9, dtype)
    for (kernel,) in kernels:
        for full, block in ((lambda f: (f, f[:, 2:6]))(rng.normal(size=(6, 9)).astype(dtype)),
                            (lambda f: (f, f[2:6].T))(rng.normal(size=(9, 6)).astype(dtype))):
            before, want = full.copy(), bv * block + av * (xv @ yv)
            got = kernel(block, av, xv, yv, bv)
            assert got is block
            assert_same(block, want, dtype)
            untouched = np.ones(full.shape, bool)
            untouched[(slice(None), slice(2, 6)) if full.shape == (6, 9) else slice(2, 6)] = False
            np.testing.assert_array_equal(full[untouched], before[untouched])


def test_gemm_shape_errors_and_empty_products():
    z, x, y = T.dmatrix("z"), T.dmatrix("x"), T.dmatrix("y")
    a, b = T.dscalar("a"), T.dscalar("b")
    (kc,), _ = c_and_numpy_kernels([Gemm().make_node(z, a, x, y, b)])
    with pytest.raises(ValueError, match="Gemm"):
        kc(np.ones((2, 2)), 1.0, np.ones((2, 3)), np.ones((2, 2)), 1.0)
    np.testing.assert_array_equal(kc(np.ones((2, 2)), 1.0, np.ones((2, 0)), np.ones((0, 2)), 2.0),
                                  np.full((2, 2), 2.0))


def test_momentum_step_writes_weights_and_velocity_into_their_own_buffers():
    # Gemm with beta 1 into v, then one pass: w += 0.9 * t, v = 0.9 * t (local_gemm_unit_beta)
    from core import function, shared

    rng = np.random.default_rng(5)
    x, d = T.fmatrix("x"), T.fmatrix("d")
    w = shared(rng.normal(size=(300, 200)).astype("float32"), name="w")
    v = shared(rng.normal(size=(300, 200)).astype("float32"), name="v")
    v_new = 0.9 * v - 0.01 * T.dot(x.T, d)
    with backend("c"):
        f = function([x, d], [], updates=[(v, v_new), (w, w + v_new)])
    w_buf, v_buf = w.get_value(borrow=True), v.get_value(borrow=True)
    w_ref, v_ref = w.get_value().astype("float64"), v.get_value().astype("float64")
    for _ in range(3):
        xs, ds = (rng.normal(size=(128, n)).astype("float32") for n in (300, 200))
        f(xs, ds)
        v_ref = 0.9 * v_ref - 0.01 * xs.T.astype("float64") @ ds
        w_ref = w_ref + v_ref
    assert v.get_value(borrow=True) is v_buf and w.get_value(borrow=True) is w_buf
    np.testing.assert_allclose(v.get_value(), v_ref, rtol=2e-4, atol=2e-4)
    np.testing.assert_allclose(w.get_value(), w_ref, rtol=2e-4, atol=2e-4)
