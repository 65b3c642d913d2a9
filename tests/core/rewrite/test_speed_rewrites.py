"""Rewrites that make the logistic regression step cheaper: the sigmoid threshold, cheap copies in fusion."""
import numpy as np
import pytest

import core.tensor as T
from core import function
from core.tensor import scalar_ops as ps
from core.tensor.elemwise import Elemwise
from rewrite_helpers import rewrite_only, same_values, scalar_ops


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("build,expect", [
    (lambda s: s > 0.5, np.greater), (lambda s: s < 0.5, np.less),
    (lambda s: s >= 0.5, np.greater_equal), (lambda s: s <= 0.5, np.less_equal),
    (lambda s: 0.5 < s, np.greater), (lambda s: 0.5 >= s, np.less_equal)])
def test_sigmoid_threshold_compares_the_argument(dtype, build, expect):
    x = T.vector("x", dtype=dtype)
    out = build(T.nnet.sigmoid(x))
    fg = rewrite_only([x], [out], "local_sigmoid_threshold")
    assert "Sigmoid" not in scalar_ops(fg)
    v = np.array([-3.0, -1e-3, 0.0, 1e-3, 2.0, np.nan], dtype=dtype)
    f = function([x], out)
    assert "Sigmoid" not in str(scalar_ops(f)) and f(v).dtype == bool
    np.testing.assert_array_equal(f(v), expect(v, 0))


def test_sigmoid_threshold_leaves_other_constants():
    x = T.dvector("x")
    fg = rewrite_only([x], [T.nnet.sigmoid(x) > 0.3], "local_sigmoid_threshold")
    assert "Sigmoid" in scalar_ops(fg)
    same_values([x], [T.nnet.sigmoid(x) > 0.3], [np.array([-1.0, -0.8, 0.0, 1.0])])


def test_sigmoid_threshold_on_a_matrix_keeps_shape():
    x = T.dmatrix("x")
    out = T.nnet.sigmoid(x) > 0.5
    v = np.array([[-1.0, 2.0], [0.5, -0.1]])
    f = same_values([x], [out], [v])
    np.testing.assert_array_equal(f(v)[0], v > 0)


def _elemwise_nodes(f):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Elemwise)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cheap_producer_is_copied_into_each_consumer(dtype):
    x, y = T.vector("x", dtype=dtype), T.vector("y", dtype=dtype)
    z = -x + y  # cheap, read by two elementwise trees
    outs = [T.exp(z) * 2, T.log1p(z * z)]
    f = function([x, y], outs)
    assert len(_elemwise_nodes(f)) == 2  # no node of its own for z
    rng = np.random.default_rng(0)
    xv, yv = rng.normal(size=(2, 50)).astype(dtype)
    a, b = f(xv, yv)
    zv = yv - xv
    tol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(a, np.exp(zv) * 2, rtol=tol)
    np.testing.assert_allclose(b, np.log1p(zv * zv), rtol=tol)


def test_expensive_or_output_producer_is_not_copied():
    x = T.dvector("x")
    e = T.exp(x)  # expensive: computed once
    f = function([x], [e * 2 + 1, T.sqrt(e + 3)], excluding=["inplace"])
    assert any(isinstance(n.op.scalar_op, ps.Exp) for n in _elemwise_nodes(f))
    n = -x  # cheap, but an output itself: computed once, in its own node
    g = function([x], [n, T.exp(n) * 2, T.sqrt(n * n)])
    assert any(isinstance(n.op.scalar_op, ps.Neg) for n in _elemwise_nodes(g))
    v = np.array([0.0, 1.0, -2.0])
    np.testing.assert_allclose(g(v)[1], np.exp(-v) * 2)


def test_cheap_producer_read_by_a_reduction_stays_shared():
    x = T.dvector("x")
    z = x + 1
    f = function([x], [T.exp(z), z.sum()])
    add_nodes = [n for n in _elemwise_nodes(f) if isinstance(n.op.scalar_op, ps.Add)]
    assert add_nodes  # the sum needs z itself; the exp reads that node, not a copy
    v = np.arange(4.0)
    a, s = f(v)
    np.testing.assert_allclose(a, np.exp(v + 1))
    assert s == pytest.approx(10.0)


def test_logistic_regression_gradient_values_unchanged():
    x, y = T.dmatrix("x"), T.dvector("y")
    w = T.dvector("w")
    p = 1 / (1 + T.exp(-T.dot(x, w)))
    xent = -y * T.log(p) - (1 - y) * T.log(1 - p)
    gw = T.grad(xent.mean(), w)
    rng = np.random.default_rng(1)
    args = [rng.normal(size=(20, 5)), rng.integers(0, 2, 20).astype("float64"), rng.normal(size=5)]
    same_values([x, y, w], [p > 0.5, xent, gw], args, rtol=1e-10)
