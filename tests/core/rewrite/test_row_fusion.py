"""Row fusion: X.T @ f(X @ v) becomes one DotElemwiseDot node (one pass over X)."""
from __future__ import annotations

import numpy as np

import core.tensor as T
from core import function, grad, shared
from core.tensor.math import Dot
from core.tensor.rewritten_ops import DotElemwiseDot


def _ops(f):
    return [type(n.op) for n in f.maker.fgraph.toposort()]


def logistic_step(**kwargs):
    rng = np.random.default_rng(0)
    x, y = T.dmatrix("x"), T.dvector("y")
    w, b = shared(rng.normal(size=5) * 0.1, name="w"), shared(0.0, name="b")
    p = T.nnet.sigmoid(T.dot(x, w) + b)
    xent = -y * T.log(p) - (1 - y) * T.log(1 - p)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = grad(cost, [w, b])
    f = function([x, y], [p > 0.5, xent, gw, gb], **kwargs)
    data = rng.normal(size=(40, 5)), (rng.random(40) > 0.5).astype("float64")
    return f, data


def test_a_linear_models_gradient_reads_the_data_once_and_matches():
    fused, data = logistic_step()
    plain, _ = logistic_step(excluding=["row_fusion"])
    reference, _ = logistic_step(mode="FAST_COMPILE")
    assert _ops(fused).count(DotElemwiseDot) == 1 and Dot not in _ops(fused)
    assert _ops(plain).count(Dot) == 2 and DotElemwiseDot not in _ops(plain)
    for a, b, c in zip(fused(*data), plain(*data), reference(*data)):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(b, c, rtol=1e-12, atol=1e-14)


def test_the_products_value_stays_available_to_other_readers():
    x, v = T.dmatrix("x"), T.dvector("v")
    z = T.dot(x, v)
    g = T.dot(x.T, T.tanh(z))
    f = function([x, v], [z, g, z.sum()])
    assert _ops(f).count(DotElemwiseDot) == 1
    rng = np.random.default_rng(1)
    a, u = rng.normal(size=(7, 3)), rng.normal(size=3)
    got = f(a, u)
    np.testing.assert_allclose(got[0], a @ u)
    np.testing.assert_allclose(got[1], a.T @ np.tanh(a @ u))
    np.testing.assert_allclose(got[2], (a @ u).sum())


def test_no_fusion_where_it_would_not_be_one_pass_or_would_loop():
    x, x2, v = T.dmatrix("x"), T.dmatrix("x2"), T.dvector("v")
    z = T.dot(x, v)
    other_matrix = function([x, x2, v], T.dot(x2.T, T.tanh(z)))
    reads_a_reduction_of_z = function([x, v], T.dot(x.T, T.tanh(z) * T.sum(z)))
    for f in (other_matrix, reads_a_reduction_of_z):
        assert DotElemwiseDot not in _ops(f)
    rng = np.random.default_rng(2)
    a, u = rng.normal(size=(6, 4)), rng.normal(size=4)
    zz = a @ u
    np.testing.assert_allclose(reads_a_reduction_of_z(a, u), a.T @ (np.tanh(zz) * zz.sum()))


def test_a_row_count_mismatch_is_the_usual_value_error():
    import pytest

    x, v, y = T.dmatrix("x"), T.dvector("v"), T.dvector("y")
    f = function([x, v, y], T.dot(x.T, T.tanh(T.dot(x, v)) - y))
    assert DotElemwiseDot in _ops(f)
    with pytest.raises(ValueError):
        f(np.ones((5, 3)), np.ones(3), np.ones(4))
