"""DebugMode: each node through the C and numpy kernels, compared; in-place and view checks."""
import numpy as np
import pytest

import backends
import core.tensor as T
from core import function, shared
from core.compile.debugmode import (BadDestroyMap, BadThunkOutput, BadViewMap, DebugMode,
                                    check_schedule)
from core.config import config
from core.graph.fg import FunctionGraph
from core.tensor import scalar_ops as ps
from core.tensor.elemwise import Elemwise


@pytest.fixture(autouse=True)
def private_compiledir(tmp_path):
    with config.change_flags(compiledir=str(tmp_path)):
        yield


def _mlp():
    rng = np.random.default_rng(0)
    x = T.dmatrix("x")
    w = shared(rng.normal(size=(4, 3)), name="w")
    b = shared(np.zeros(3), name="b")
    h = T.nnet.relu(T.dot(x, w) + b)
    cost = -T.nnet.log_softmax(h).mean() + T.maximum(h, 0.3).sum()
    gw, gb = T.grad(cost, [w, b])
    return x, w, b, cost, [(w, w - 0.1 * gw), (b, b - 0.1 * gb)]


def test_debugmode_matches_fast_run_with_in_place_updates():
    x, w, b, cost, updates = _mlp()
    xv = np.random.default_rng(1).normal(size=(5, 4))
    w0, b0 = w.get_value(), b.get_value()
    got = []
    for mode in ("FAST_RUN", "DebugMode", DebugMode()):
        w.set_value(w0.copy())
        b.set_value(b0.copy())
        f = function([x], cost, updates=updates, mode=mode)
        got.append([f(xv), f(xv), w.get_value(), b.get_value()])
    for other in got[1:]:
        for a, e in zip(other, got[0]):
            np.testing.assert_allclose(a, e, rtol=1e-12)
    assert isinstance(f.maker.mode, DebugMode)
    # the update was compiled in place: the checks saw the destroying nodes
    assert any(n.op.destroy_map for n in f.maker.fgraph.apply_nodes)


def _sabotage(monkeypatch, op_type, make_bad):
    """Make the C backend's kernel of every ``op_type`` Elemwise node ``make_bad(kernel)``."""
    real = backends.make_kernels

    def fake(nodes, backend="numpy", lazy=True):
        kernels = real(nodes, backend, lazy=lazy)
        if backend != "c":
            return kernels
        return [k.wrapped(make_bad(k.fn))
                if isinstance(getattr(n.op, "scalar_op", None), op_type) else k
                for n, k in zip(nodes, kernels)]

    monkeypatch.setattr(backends, "make_kernels", fake)


def test_a_wrong_kernel_is_caught_with_op_shapes_dtypes_and_line(monkeypatch):
    _sabotage(monkeypatch, ps.Exp, lambda k: (lambda *a: k(*a) * 1.001))
    x = T.fmatrix("x")
    y = T.exp(x)  # the line the error points at
    f = function([x], y.sum(axis=0), mode="DebugMode")
    with pytest.raises(BadThunkOutput) as info:
        f(np.ones((2, 3), "float32"))
    msg = str(info.value)
    assert "Elemwise{exp}" in msg and "(2, 3)" in msg and "float32" in msg
    assert "y = T.exp(x)  # the line the error points at" in msg
    assert msg.count("The node was created at") == 1  # not repeated by Function's wrapper


def test_rounding_within_the_dtype_tolerance_passes(monkeypatch):
    _sabotage(monkeypatch, ps.Exp, lambda k: (lambda *a: k(*a) * (1 + 1e-12)))
    x = T.dvector("x")
    f = function([x], T.exp(x), mode="DebugMode")
    np.testing.assert_allclose(f(np.arange(3.0)), np.exp(np.arange(3.0)), rtol=1e-10)


def test_an_undeclared_in_place_write_is_caught(monkeypatch):
    def overwrite_input(kernel):
        def bad(*args):
            out = kernel(*args)
            args[0][...] = 0  # writes into an input the op does not own
            return out
        return bad

    _sabotage(monkeypatch, ps.Tanh, overwrite_input)
    x = T.dvector("x")
    f = function([x], [T.tanh(x), x.sum()], mode="DebugMode")
    with pytest.raises(BadDestroyMap, match=r"Elemwise\{tanh\}.*overwrote input 0"):
        f(np.arange(4.0))


def test_an_undeclared_view_is_caught(monkeypatch):
    _sabotage(monkeypatch, ps.Abs, lambda k: (lambda *a: a[0]))  # right values, aliased
    x = T.dvector("x")
    f = function([x], [T.abs(x), x.sum()], mode="DebugMode")
    with pytest.raises(BadViewMap, match=r"Elemwise\{abs\}.*shares memory with input 0"):
        f(np.arange(1.0, 4.0))


def test_the_order_check_finds_a_reader_after_an_overwrite():
    x = T.dvector("x")
    y = T.exp(x)
    z = Elemwise(ps.add, {0: 0})(y, T.constant(np.ones(1)))  # overwrites y's buffer
    w = y * 2  # reads y
    fg = FunctionGraph([x], [z, w], clone=False)
    exp_node, add_node, mul_node = y.owner, z.owner, w.owner
    check_schedule(fg, [exp_node, mul_node, add_node])  # the reader first: fine
    with pytest.raises(BadDestroyMap, match=r"reads it later"):
        check_schedule(fg, [exp_node, add_node, mul_node])


def test_the_order_check_refuses_overwriting_a_returned_value():
    x = T.dvector("x")
    y = T.exp(x)
    z = Elemwise(ps.add, {0: 0})(y, T.constant(np.ones(1)))
    fg = FunctionGraph([x], [z, y], clone=False)
    with pytest.raises(BadDestroyMap, match=r"also returned as output 1"):
        check_schedule(fg, [y.owner, z.owner])


def test_numpy_only_debugmode_still_checks_in_place_writes(monkeypatch):
    real = backends.make_kernels

    def fake(nodes, backend="numpy", lazy=True):
        kernels = real(nodes, backend, lazy=lazy)

        def bad(k):
            def run(*args):
                out = k(*args)
                args[0][...] = -1
                return out
            return run
        return [k.wrapped(bad(k.fn)) if isinstance(getattr(n.op, "scalar_op", None), ps.Cos) else k
                for n, k in zip(nodes, kernels)]

    monkeypatch.setattr(backends, "make_kernels", fake)
    x = T.dvector("x")
    f = function([x], [T.cos(x), x.sum()], mode=DebugMode(check_c=False))
    with pytest.raises(BadDestroyMap, match="numpy kernel"):
        f(np.arange(3.0))


def test_nan_and_inf_must_match_exactly(monkeypatch):
    _sabotage(monkeypatch, ps.Log, lambda k: (lambda *a: np.nan_to_num(k(*a), neginf=-1e300)))
    x = T.dvector("x")
    f = function([x], T.log(x), mode="DebugMode")
    with pytest.raises(BadThunkOutput, match="disagree"):
        f(np.array([0.0, 1.0]))


def test_an_in_place_node_reading_its_buffer_through_a_view_is_caught():
    x = T.dmatrix("x")
    y = T.exp(x)
    # overwrites y while reading y's first row, broadcast: rows after the first would
    # read the row already written
    z = Elemwise(ps.add, {0: 0})(y, y[0].dimshuffle("x", 0))
    f = function([x], z.sum(), mode="DebugMode")
    with pytest.raises(BadDestroyMap, match=r"overwrites input 0 while input 1 reads the same"):
        f(np.ones((3, 2)))


def test_two_outputs_sharing_memory_are_caught(monkeypatch):
    from core.tensor.composite import Composite

    _sabotage(monkeypatch, Composite, lambda k: (lambda *a: (k(*a)[0],) * 2))
    x = T.dvector("x")
    f = function([x], [T.exp(x) + 1, T.exp(x) * 2], mode="DebugMode")
    assert any(len(n.outputs) == 2 for n in f.maker.fgraph.apply_nodes), "one fused loop"
    with pytest.raises(BadViewMap, match=r"outputs 0 and 1 of .* share memory"):
        f(np.arange(3.0))


def test_a_scan_loop_and_its_gradient_run_under_debugmode():
    from core import scan

    x, w = T.dvector("x"), T.dmatrix("w")
    hs, _ = scan(lambda h, w: T.tanh(T.dot(w, h)), outputs_info=[x], non_sequences=[w],
                 n_steps=4)
    cost = hs[-1].sum()
    outs = [cost, T.grad(cost, w)]
    args = (np.ones(3), np.eye(3) * 0.5)
    want = function([x, w], outs)(*args)
    got = function([x, w], outs, mode="DebugMode")(*args)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12)
