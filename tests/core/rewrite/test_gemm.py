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


def _gemm_nodes(f):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Gemm)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_local_gemm_unit_beta_folds_the_momentum_into_the_weight_pass(dtype):
    # Gemm(v, -lr, x.T, d, 0.9) -> 0.9 * Gemm(v, -lr / 0.9, x.T, d, 1): BLAS skips its pass
    # scaling v; the 0.9 joins the elementwise pass that writes both w and v.
    x, d = T.matrix("x", dtype=dtype), T.matrix("d", dtype=dtype)
    w = shared(RNG.normal(size=(3, 5)).astype(dtype), name="w")
    v = shared(RNG.normal(size=(3, 5)).astype(dtype), name="v")
    v_new = 0.9 * v - 0.01 * T.dot(x.T, d)
    f = function([x, d], [], updates=[(v, v_new), (w, w + v_new)])
    (gemm,) = _gemm_nodes(f)
    assert gemm.op.inplace and float(gemm.inputs[4].data) == 1.0
    assert float(gemm.inputs[1].data) == pytest.approx(-0.01 / 0.9)
    (both,) = [n for n in f.maker.fgraph.toposort() if len(n.outputs) == 2]
    assert sorted(dict(both.op.inplace_pattern)) == [0, 1]  # w and v written in place
    w_ref, v_ref = w.get_value().astype("float64"), v.get_value().astype("float64")
    for _ in range(3):
        xs, ds = RNG.normal(size=(4, 3)).astype(dtype), RNG.normal(size=(4, 5)).astype(dtype)
        f(xs, ds)
        v_ref = 0.9 * v_ref - 0.01 * xs.T.astype("float64") @ ds
        w_ref = w_ref + v_ref
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(v.get_value(), v_ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(w.get_value(), w_ref, rtol=tol, atol=tol)


def test_local_gemm_unit_beta_leaves_a_gemm_without_elementwise_readers():
    z, x, y = T.dmatrix("z"), T.dmatrix("x"), T.dmatrix("y")
    f = function([z, x, y], 0.9 * z - 0.01 * T.dot(x, y))
    (gemm,) = _gemm_nodes(f)
    assert float(gemm.inputs[4].data) == pytest.approx(0.9)  # BLAS scales z: no extra pass


def test_velocity_read_after_the_step_is_not_overwritten_early():
    x, d = T.dmatrix("x"), T.dmatrix("d")
    v = shared(RNG.normal(size=(3, 5)), name="v")
    w = shared(RNG.normal(size=(3, 5)), name="w")
    v_new = 0.9 * v - 0.01 * T.dot(x.T, d)
    # the old velocity is returned too: neither the product nor its reader may overwrite it
    f = function([x, d], v * 1.0, updates=[(v, v_new), (w, w + v_new)])
    v0, w0 = v.get_value(), w.get_value()
    xs, ds = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 5))
    old = f(xs, ds)
    np.testing.assert_allclose(old, v0)
    np.testing.assert_allclose(v.get_value(), 0.9 * v0 - 0.01 * xs.T @ ds, rtol=1e-12)
    np.testing.assert_allclose(w.get_value(), w0 + 0.9 * v0 - 0.01 * xs.T @ ds, rtol=1e-12)


def test_a_product_of_scalars_scaling_the_dot_joins_the_gemm():
    # A data-parallel momentum step: 0.9 v - lr * (dot(x.T, d) * (1 / count)), a learning rate
    # and a sample count known only at run time, both folded into the Gemm's coefficient.
    x, d, count = T.dmatrix("x"), T.dmatrix("d"), T.dscalar("count")
    v = shared(RNG.normal(size=(3, 5)), name="v", shape=(3, 5))
    lr = shared(np.asarray(0.1), name="lr")
    v_new = 0.9 * v - lr * (T.dot(x.T, d) * (1 / count))
    f = function([x, d, count], [], updates=[(v, v_new)])
    assert [n.op.inplace for n in _gemm_nodes(f)] == [True]
    assert not any(isinstance(op, Dot) for op in _ops(f))
    v0 = v.get_value()
    xs, ds = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 5))
    f(xs, ds, 4.0)
    np.testing.assert_allclose(v.get_value(), 0.9 * v0 - 0.1 * xs.T @ ds / 4.0, rtol=1e-12)
