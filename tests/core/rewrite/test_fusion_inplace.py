"""Elementwise fusion into Composite, and the inplace rewrite."""
import numpy as np
import pytest

import core.tensor as T
from core import function, shared
from core.gradient import verify_grad
from core.tensor import scalar_ops as ps
from core.tensor.composite import Composite
from core.tensor.elemwise import Elemwise


def _nodes(f):
    return f.maker.fgraph.toposort()


def test_seed_a_plus_a_pow_10_is_one_fused_node():
    a = T.dvector("a")
    f = function([a], a + a ** 10)
    np.testing.assert_array_equal(f([0, 1, 2]), [0.0, 2.0, 1026.0])
    (node,) = _nodes(f)
    comp = node.op.scalar_op
    assert isinstance(comp, Composite)
    assert [type(n.op).__name__ for n in comp.fgraph.toposort()] == ["Pow", "Add"]
    assert str(comp) == "Composite{(i0 + (i0 ** 10.0))}"


def test_fusion_respects_other_clients():
    x = T.dvector("x")
    e = T.exp(x)
    f = function([x], [e * 2 + 1, T.log(e)], excluding=["inplace"])
    # exp has two clients outside one tree: it stays its own node
    assert any(isinstance(n.op, Elemwise) and isinstance(n.op.scalar_op, ps.Exp) for n in _nodes(f))
    v = np.array([0.0, 1.0])
    a, b = f(v)
    np.testing.assert_allclose(a, np.exp(v) * 2 + 1)
    np.testing.assert_allclose(b, v)


def test_fusion_respects_broadcasting_and_dtypes():
    x, r = T.fmatrix("x"), T.frow("r")
    y = T.tanh(x * 2 + r) - T.exp(r)  # exp(r) is a row: not fused into the matrix loop
    f = function([x, r], y)
    fused = [n for n in _nodes(f) if isinstance(n.op.scalar_op if hasattr(n.op, "scalar_op") else None,
                                                 Composite)]
    assert fused and all(n.outputs[0].dtype == "float32" for n in fused)
    assert any(isinstance(getattr(n.op, "scalar_op", None), ps.Exp) for n in _nodes(f))
    xv = np.arange(6, dtype="float32").reshape(2, 3) / 6
    rv = np.array([[0.1, 0.2, 0.3]], dtype="float32")
    out = f(xv, rv)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np.tanh(xv * 2 + rv) - np.exp(rv), rtol=1e-6)


def test_fusion_can_be_excluded():
    a = T.dvector("a")
    f = function([a], a + a ** 10, excluding=["fusion"])
    assert len(_nodes(f)) == 2


def test_composite_equality_merges_identical_fusions():
    def make():
        a, b = ps.ScalarType("float64")(), ps.ScalarType("float64")()
        return Composite([a, b], [ps.add(ps.exp(a), ps.mul(b, ps.scalar_constant(2.0, "float64")))])

    assert make() == make() and hash(make()) == hash(make())
    a, b = ps.ScalarType("float64")(), ps.ScalarType("float64")()
    assert make() != Composite([a, b], [ps.add(ps.exp(b), ps.mul(a, ps.scalar_constant(2.0, "float64")))])
    assert make() != Composite([a, b], [ps.add(ps.exp(a), ps.mul(b, ps.scalar_constant(3.0, "float64")))])
    x, y = T.dvectors("x", "y")
    f = function([x, y], [T.exp(x) + y * 2, (T.exp(x) + y * 2) * 1])
    assert len(_nodes(f)) == 1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_composite_two_outputs_values_and_gradient(dtype):
    a, b = ps.ScalarType(dtype)(), ps.ScalarType(dtype)()
    comp = Composite([a, b], [ps.mul(ps.exp(a), b), ps.sub(a, ps.sqr(b))])
    assert (comp.nin, comp.nout) == (2, 2)
    x, y = T.matrix("x", dtype=dtype), T.row("y", dtype=dtype)
    o1, o2 = Elemwise(comp)(x, y)
    f = function([x, y], [o1, o2], mode="FAST_COMPILE")
    xv = np.arange(6, dtype=dtype).reshape(2, 3) / 5
    yv = np.array([[1.0, -2.0, 0.5]], dtype=dtype)
    r1, r2 = f(xv, yv)
    assert r1.dtype == dtype and r2.shape == (2, 3)
    np.testing.assert_allclose(r1, np.exp(xv) * yv, rtol=1e-6)
    np.testing.assert_allclose(r2, xv - yv ** 2, rtol=1e-6)
    rng = np.random.default_rng(1)
    verify_grad(lambda u, v: Elemwise(comp)(u, v)[0] + Elemwise(comp)(u, v)[1],
                [rng.random((2, 3)).astype(dtype), rng.random((2, 3)).astype(dtype)], dtype=dtype)


def test_composite_rejects_bad_inputs():
    a = ps.ScalarType("float64")()
    comp = Composite([a], [ps.exp(a)])
    with pytest.raises(TypeError, match="takes 1 inputs"):
        comp.make_node(a, a)
    with pytest.raises(TypeError, match="dtype"):
        comp.make_node(ps.ScalarType("float32")())


def test_inplace_only_on_private_intermediates():
    x = T.dvector("x")
    w = shared(np.ones(3), name="w")
    y = T.exp(x) * 2 + w  # fused; no intermediate is private except inside the fusion
    f = function([x], [T.tanh(T.dot(T.outer(x, x), x)) + 1, y])
    for node in _nodes(f):
        for _, i in node.op.destroy_map.items():
            inp = node.inputs[i[0]]
            assert inp.owner is not None and inp not in f.maker.fgraph.inputs
            assert len(f.maker.fgraph.clients[inp]) == 1
    assert any(n.op.destroy_map for n in _nodes(f))
    xv = np.array([0.1, 0.2, 0.3])
    a, b = f(xv)
    np.testing.assert_allclose(a, np.tanh(np.outer(xv, xv) @ xv) + 1)
    np.testing.assert_allclose(b, np.exp(xv) * 2 + 1)
    np.testing.assert_array_equal(xv, [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(w.get_value(), np.ones(3))


def test_inplace_never_destroys_inputs_or_constants_and_updates_their_own_shared():
    x = T.dvector("x")
    w = shared(np.ones(3), name="w")
    f = function([x], T.exp(x) + 2.0, updates=[(w, T.tanh(w))])
    destroyed = [n.inputs[i] for n in _nodes(f) for ins in n.op.destroy_map.values() for i in ins]
    assert destroyed == [w]  # only the shared value its own update replaces
    xv = np.zeros(3)
    before = w.get_value(borrow=True)
    f(xv)
    np.testing.assert_array_equal(xv, np.zeros(3))
    assert w.get_value(borrow=True) is before  # overwritten in place
    np.testing.assert_allclose(before, np.tanh(1.0))


def test_an_update_never_overwrites_a_value_something_later_reads():
    x = T.dvector("x")
    w = shared(np.arange(3.0), name="w")
    m = shared(np.ones((2, 3)), name="m")
    a, b = shared(np.zeros(3), name="a"), shared(np.ones(3), name="b")
    f = function([x], [x * T.sum(w), T.dot(m.T, x[:2]), w],  # read after / through a view / returned
                 updates=[(w, T.tanh(w)), (m, m * 2.0), (a, b + 1.0), (b, a + 1.0)])  # a swap
    out = f(np.ones(3))
    np.testing.assert_allclose(out[0], np.full(3, 3.0))  # the old w
    np.testing.assert_allclose(out[1], np.ones(3) * 2)  # the old m
    np.testing.assert_allclose(out[2], np.arange(3.0))
    np.testing.assert_allclose(w.get_value(), np.tanh(np.arange(3.0)))
    np.testing.assert_allclose(a.get_value(), 2.0)
    np.testing.assert_allclose(b.get_value(), 1.0)
    first = f(np.ones(3))[2]
    f(np.ones(3))
    np.testing.assert_allclose(first, np.tanh(np.arange(3.0)))  # a returned value stays intact


def test_a_returned_update_is_not_the_shared_buffer():
    w = shared(np.ones(4), name="w")
    f = function([], w * 2.0, updates=[(w, w * 2.0)])
    got = f()
    f()
    np.testing.assert_allclose(got, 2.0)
    np.testing.assert_allclose(w.get_value(), 4.0)


def test_inplace_skips_a_shared_intermediate():
    x = T.dvector("x")
    d = T.dot(T.outer(x, x), x)
    f = function([x], [T.tanh(d), d])
    tanh_node = [n for n in _nodes(f) if isinstance(getattr(n.op, "scalar_op", None), ps.Tanh)][0]
    assert not tanh_node.op.destroy_map
    xv = np.array([0.1, 0.2])
    a, b = f(xv)
    np.testing.assert_allclose(b, np.outer(xv, xv) @ xv)


def test_fused_nodes_take_at_most_max_inputs():
    from core.rewrite.fusion import MAX_INPUTS

    xs = [T.dvector(f"x{k}") for k in range(MAX_INPUTS + 8)]
    y = xs[0]
    for x in xs[1:]:
        y = T.tanh(y) + x
    f = function(xs, y)
    assert all(len(n.inputs) <= MAX_INPUTS for n in _nodes(f))
    assert len(_nodes(f)) >= 2
    vals = [np.full(2, 0.01 * k) for k in range(len(xs))]
    want = vals[0]
    for v in vals[1:]:
        want = np.tanh(want) + v
    np.testing.assert_allclose(f(*vals), want)


def test_an_update_is_ordered_after_the_readers_of_the_old_value():
    x = T.dmatrix("x")
    w = shared(np.arange(6.0).reshape(2, 3), name="w")
    f = function([x], T.dot(x, w.T), updates=[(w, w * 0.5 + 1.0)])  # reads w through a view
    order = _nodes(f)
    (update,) = [n for n in order if n.op.destroy_map]
    reader = [n for n in order if "Dot" in str(n.op)][0]
    assert order.index(reader) < order.index(update)
    assert f.maker.fgraph.orderings == {update: [reader]} or reader in f.maker.fgraph.orderings[update]
    old = w.get_value()
    out = f(np.ones((4, 3)))
    np.testing.assert_allclose(out, np.ones((4, 3)) @ old.T)  # the old w
    np.testing.assert_allclose(w.get_value(), old * 0.5 + 1.0)


def test_no_overwrite_where_a_reader_of_the_old_value_needs_the_new_one():
    w = shared(np.full(3, 3.0), name="w")
    new = w * 2.0
    f = function([], T.dot(w, new), updates=[(w, new)])  # one node reads the old and the new
    assert not any(n.op.destroy_map for n in _nodes(f))
    np.testing.assert_allclose(f(), 54.0)
    np.testing.assert_allclose(w.get_value(), 6.0)


def test_toposort_honours_orderings():
    from core.graph.utils import toposort

    a, b = T.dvector("a"), T.dvector("b")
    x, y = T.exp(a), T.tanh(b)
    out = x + y
    plain = toposort([out], stop=[a, b])
    first, second = plain[0], plain[1]
    reordered = toposort([out], stop=[a, b], orderings={first: [second]})
    assert reordered.index(second) < reordered.index(first) < reordered.index(out.owner)
