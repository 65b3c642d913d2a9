"""The C Gemm kernel (one cblas gemm call) against the numpy reference."""
from __future__ import annotations

import numpy as np
import pytest

import core.tensor as T
from core.tensor.blas import Gemm

from c_helpers import assert_same, c_and_numpy_kernels, layouts, needs_cc

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
    assert_same(kc(fortran_z, av, xv, yv, bv), want, dtype)  # z not row-major: a copy


def test_gemm_shape_errors_and_empty_products():
    z, x, y = T.dmatrix("z"), T.dmatrix("x"), T.dmatrix("y")
    a, b = T.dscalar("a"), T.dscalar("b")
    (kc,), _ = c_and_numpy_kernels([Gemm().make_node(z, a, x, y, b)])
    with pytest.raises(ValueError, match="Gemm"):
        kc(np.ones((2, 2)), 1.0, np.ones((2, 3)), np.ones((2, 2)), 1.0)
    np.testing.assert_array_equal(kc(np.ones((2, 2)), 1.0, np.ones((2, 0)), np.ones((0, 2)), 2.0),
                                  np.full((2, 2), 2.0))
