"""The order compiled functions run their nodes in (core.compile.schedule)."""
import numpy as np

import core.tensor as T
from core import function, shared
from core.compile.schedule import execution_order


def _position(order, name):
    return [k for k, n in enumerate(order) if name in str(n.op)]


def _check_topological(f):
    fg = f.maker.fgraph
    order = f.program.nodes
    assert sorted(map(id, order)) == sorted(map(id, fg.toposort()))
    seen = set()
    for node in order:
        for inp in node.inputs:
            assert inp.owner is None or inp.owner in seen or inp in fg.inputs, node
        for before in fg.orderings.get(node, ()):
            assert before in seen, (node, before)
        seen.add(node)


def test_a_bias_sum_reads_the_fresh_gradient_before_the_weight_product():
    x, y = T.fmatrix("x"), T.fmatrix("y")
    w = shared(np.ones((5, 4), "float32"), name="w")
    b = shared(np.zeros(4, "float32"), name="b")
    cost = ((T.nnet.relu(T.dot(x, w) + b) - y) ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    f = function([x, y], cost, updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)])
    _check_topological(f)
    order = f.program.nodes
    (bias_sum,) = _position(order, "Sum{axis=[0]}")
    products = _position(order, "Gemm") + _position(order, "Dot")
    weight_grad = max(products)  # the backward product x.T @ d
    assert bias_sum < weight_grad
    xv, yv = np.ones((3, 5), "float32"), np.zeros((3, 4), "float32")
    np.testing.assert_allclose(f(xv, yv), 3 * 4 * 25.0)
    np.testing.assert_allclose(w.get_value(), 1 - 0.1 * xv.T @ np.full((3, 4), 10.0), rtol=1e-6)


def test_returned_outputs_are_computed_before_updates_overwrite_shared_values():
    x = T.dmatrix("x")
    s = shared(np.zeros(3), name="s")
    f = function([x], T.dot(x, x).sum(), updates=[(s, s + 1)])
    _check_topological(f)
    order = f.program.nodes
    (update,) = [k for k, n in enumerate(order) if n.op.destroy_map]
    (product,) = _position(order, "Dot")
    assert product < update


def test_orderings_are_honoured_with_in_place_updates_of_weights_read_twice():
    rng = np.random.default_rng(0)
    x = T.dmatrix("x")
    w1 = shared(rng.normal(size=(4, 6)), name="w1")
    w2 = shared(rng.normal(size=(6, 3)), name="w2")
    cost = T.tanh(T.dot(T.tanh(T.dot(x, w1)), w2)).sum()
    g1, g2 = T.grad(cost, [w1, w2])
    f = function([x], cost, updates=[(w1, w1 - 0.1 * g1), (w2, w2 - 0.1 * g2)])
    _check_topological(f)
    assert execution_order(f.maker.fgraph, f.maker.fgraph.outputs[:1]) == f.program.nodes
    xv = rng.normal(size=(5, 4))
    w1v, w2v = w1.get_value(), w2.get_value()
    h = np.tanh(xv @ w1v)
    d2 = 1 - np.tanh(h @ w2v) ** 2
    g2v = h.T @ d2
    g1v = xv.T @ ((d2 @ w2v.T) * (1 - h ** 2))
    f(xv)
    np.testing.assert_allclose(w2.get_value(), w2v - 0.1 * g2v)
    np.testing.assert_allclose(w1.get_value(), w1v - 0.1 * g1v)
