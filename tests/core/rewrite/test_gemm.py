"""local_gemm: b*z + a*dot(x, y) becomes one Gemm, computed in place into an updated z."""
from __future__ import annotations

import numpy as np
import pytest

import core.tensor as T
from core import function, shared
from core.tensor.blas import Gemm
from core.tensor.math import Dot


def _ops(f):
    return [n.op for n in f.maker.fgraph.toposort()]


RNG = np.random.default_rng(3)
Z, X, Y = RNG.normal(size=(4, 5)), RNG.normal(size=(4, 3)), RNG.normal(size=(3, 5))


@pytest.mark.parametrize("build", [
    lambda z, x, y: 0.9 * z - 0.01 * T.dot(x, y),
    lambda z, x, y: z - T.dot(x, y),
    lambda z, x, y: 2.0 * T.dot(x, y) + z,
    lambda z, x, y: -T.dot(x, y) + 3.0 * z,
])
def test_local_gemm_forms_match_the_unoptimized_graph(build):
    z, x, y = T.dmatrix("z"), T.dmatrix("x"), T.dmatrix("y")
    f = function([z, x, y], build(z, x, y))
    assert any(isinstance(op, Gemm) for op in _ops(f)) and not any(
        isinstance(op, Dot) for op in _ops(f))
    g = function([z, x, y], build(z, x, y), mode="FAST_COMPILE")
    zv = Z.copy()
    np.testing.assert_allclose(f(zv, X, Y), g(Z, X, Y), rtol=1e-12)
    np.testing.assert_array_equal(zv, Z)  # a user's input is never the accumulator


def test_a_product_read_elsewhere_is_not_folded_in():
    z, x, y = T.dmatrix("z"), T.dmatrix("x"), T.dmatrix("y")
    d = T.dot(x, y)
    f = function([z, x, y], [z - 0.5 * d, d])
    assert not any(isinstance(op, Gemm) for op in _ops(f))


def test_sgd_and_momentum_updates_accumulate_the_product_into_the_weights():
    x, d = T.dmatrix("x"), T.dmatrix("d")
    w = shared(RNG.normal(size=(3, 5)), name="w")
    v = shared(np.zeros((3, 5)), name="v")
    lr = shared(np.asarray(0.1), name="lr")
    v_new = 0.9 * v - lr * T.dot(x.T, d)
    f = function([x, d], [], updates=[(v, v_new), (w, w + v_new)])
    gemms = [op for op in _ops(f) if isinstance(op, Gemm)]
    assert gemms and all(op.inplace for op in gemms)
    w0, v0 = w.get_value(), v.get_value()
    xs, ds = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 5))
    f(xs, ds)
    want_v = 0.9 * v0 - 0.1 * xs.T @ ds
    np.testing.assert_allclose(v.get_value(), want_v, rtol=1e-12)
    np.testing.assert_allclose(w.get_value(), w0 + want_v, rtol=1e-12)
