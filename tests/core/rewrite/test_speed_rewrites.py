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
    # no node of its own for z: copied into both loops (which then merge as siblings)
    assert len(_elemwise_nodes(f)) == 1
    f2 = function([x, y], outs, excluding=["inplace"])
    assert all(len(n.op.scalar_op.fgraph.outputs) == 2 for n in _elemwise_nodes(f2))
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


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_momentum_update_accumulates_the_gradient_product_in_place(dtype):
    from core import shared

    rng = np.random.default_rng(3)
    w0 = rng.normal(size=(6, 5)).astype(dtype)
    w, v = shared(w0.copy()), shared(np.zeros_like(w0))
    x = T.matrix("x", dtype=dtype)
    cost = T.sqr(T.dot(x, w)).sum()
    g = T.grad(cost, w)
    v_new = 0.9 * v - 0.01 * g
    f = function([x], cost, updates=[(v, v_new), (w, w + v_new)])
    from core.tensor.blas import Gemm

    nodes = f.maker.fgraph.toposort()
    (gemm,) = [n for n in nodes if isinstance(n.op, Gemm)]
    assert gemm.op.inplace and gemm.inputs[0] is v  # v = 0.9 v - 0.01 x.T @ d, in v's buffer
    (step,) = [n for n in _elemwise_nodes(f) if w in n.inputs]
    assert step.op.inplace_pattern and gemm.outputs[0] in step.inputs  # w += v, in place
    xv = rng.normal(size=(4, 6)).astype(dtype)
    wr, vr = w0.astype("float64"), np.zeros((6, 5))
    for _ in range(3):
        f(xv)
        gr = 2 * xv.T.astype("float64") @ (xv.astype("float64") @ wr)
        vr = 0.9 * vr - 0.01 * gr
        wr = wr + vr
    tol = 1e-4 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(v.get_value(), vr, rtol=tol, atol=tol)
    np.testing.assert_allclose(w.get_value(), wr, rtol=tol, atol=tol)


def test_second_output_only_when_its_other_readers_are_graph_outputs():
    x = T.dvector("x")
    e = T.exp(x)
    f = function([x], [e, e * 2 + 1])  # e: a graph output read by the group: one loop
    assert len(_elemwise_nodes(f)) == 1 and len(_elemwise_nodes(f)[0].outputs) == 2
    v = np.array([0.0, 1.0, 2.0])
    a, b = f(v)
    np.testing.assert_allclose(a, np.exp(v))
    np.testing.assert_allclose(b, np.exp(v) * 2 + 1)
    assert not np.shares_memory(a, b)
    g = function([x], [e.sum(), e * 2 + 1])  # e also read by a reduction: it stays apart
    assert all(len(n.outputs) == 1 for n in _elemwise_nodes(g))
    np.testing.assert_allclose(g(v)[0], np.exp(v).sum())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sibling_loops_over_one_input_merge(dtype):
    x = T.vector("x", dtype=dtype)
    outs = [T.exp(x) * 2, T.tanh(x) > 0.1, T.sqrt(T.abs(x))]
    f = function([x], outs)
    (node,) = _elemwise_nodes(f)
    assert len(node.outputs) == 3
    v = np.random.default_rng(5).normal(size=30).astype(dtype)
    got = f(v)
    same_values([x], outs, [v], rtol=1e-6 if dtype == "float32" else 1e-12)
    assert got[1].dtype == bool and got[0].dtype == dtype


def test_dependent_loops_do_not_merge():
    x = T.dvector("x")
    a = T.exp(x)
    s = a.sum()  # b depends on a through a reduction: one loop cannot compute both
    b = T.log(x * x + 1) * s
    f = function([x], [a, b])
    assert len(_elemwise_nodes(f)) >= 2
    v = np.array([0.5, -1.0, 2.0])
    ra, rb = f(v)
    np.testing.assert_allclose(ra, np.exp(v))
    np.testing.assert_allclose(rb, np.log(v * v + 1) * np.exp(v).sum())


def test_siblings_with_integer_inputs_stay_apart():
    x = T.TensorType("int8", (None,))("x")
    f = function([x], [T.exp(x), T.sqrt(x)])
    assert all(len(n.outputs) == 1 for n in _elemwise_nodes(f))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scalar_values_fuse_into_the_loop_as_invariants(dtype):
    x = T.vector("x", dtype=dtype)
    inv_n = 1.0 / T.cast(x.shape[0], dtype)  # a 0-d value: no loop (and no kernel) of its own
    out = T.exp(x) * inv_n
    f = function([x], out)
    assert len(_elemwise_nodes(f)) == 1
    v = np.linspace(-1, 1, 7).astype(dtype)
    np.testing.assert_allclose(f(v), np.exp(v) / 7, rtol=1e-6)
    g = function([x], [inv_n, out])  # the 0-d value is an output too: still right
    a, b = g(v)
    assert np.ndim(a) == 0 and a == pytest.approx(1 / 7)
    np.testing.assert_allclose(b, np.exp(v) / 7, rtol=1e-6)
