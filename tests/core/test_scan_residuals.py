"""Scan speed mechanisms: the forward loop stores the intermediates its gradient reads
(a residual twin replaces the plain loop when both are in one function), loop buffers
reused across calls only when nothing holds them, strided sequences and cotangents."""
import sys

import numpy as np
import pytest

import core.tensor as T
from core import function
from core.gradient import verify_grad
from core.scan import Scan, ScanGrad, scan, until

rng = np.random.default_rng(0)


def _gated_loop(x, w, h0):
    """h' = sigmoid(x_t + W h) * tanh(h): one product per step, intermediates the gradient
    reads (the sigmoid), and a recurrent output."""
    def step(x_t, h, w):
        return T.nnet.sigmoid(x_t + T.dot(w, h)) * T.tanh(h + 1)

    out, _ = scan(step, sequences=[x], outputs_info=[h0], non_sequences=[w])
    return out


def _numpy_loop(x, w, h0):
    h, hs = h0, []
    for x_t in x:
        h = 1 / (1 + np.exp(-(x_t + w @ h))) * np.tanh(h + 1)
        hs.append(h)
    return np.stack(hs)


def _nodes(f, cls):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, cls)]


def _count(fgraph, name):
    return sum(type(n.op).__name__ == name for n in fgraph.toposort())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradient_reads_stored_intermediates_instead_of_recomputing(dtype):
    x = T.TensorType(dtype, (None, 3, 2))("x")
    w = T.TensorType(dtype, (3, 3))("w")
    h0 = T.TensorType(dtype, (3, 2))("h0")
    out = _gated_loop(x, w, h0)
    cost = T.sum(out ** 2)
    f = function([x, w, h0], [out, cost] + T.grad(cost, [x, w, h0]))
    scans = _nodes(f, Scan)
    assert len(scans) == 1  # the twin only: the loop runs once
    twin = scans[0].op
    assert twin.twin_of is not None and twin.n_residuals >= 1
    grads = _nodes(f, ScanGrad)
    assert len(grads) == 1
    # backward step: W.T @ dz and dz @ h.T; the forward product is read, not recomputed
    assert _count(grads[0].op.fgraph, "Dot") == 2
    assert _count(twin.fgraph, "Dot") == 1

    xv = rng.normal(size=(5, 3, 2)).astype(dtype)
    wv = rng.normal(size=(3, 3)).astype(dtype)
    hv = rng.normal(size=(3, 2)).astype(dtype)
    res = f(xv, wv, hv)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(res[0], _numpy_loop(xv, wv, hv), rtol=tol * 10, atol=tol)
    assert res[0].dtype == dtype and all(r.dtype == dtype for r in res[2:])
    plain = function([x, w, h0], out)
    assert not hasattr(_nodes(plain, Scan)[0].op, "twin_of")  # forward only: no residuals
    np.testing.assert_allclose(plain(xv, wv, hv), res[0], rtol=tol * 10, atol=tol)


def test_gradient_with_residuals_matches_finite_differences():
    def cost(x, w, h0):
        return T.sum(_gated_loop(x, w, h0) ** 2)

    verify_grad(cost, [rng.normal(size=(4, 3, 2)), rng.normal(size=(3, 3)),
                       rng.normal(size=(3, 2))], rng=np.random.default_rng(1))


def test_residuals_with_until_and_go_backwards():
    x = T.dmatrix("x")
    w = T.dmatrix("w")

    def step(x_t, h, w):
        new = T.tanh(T.dot(w, h) + x_t)
        return new, until(T.sum(new) > 1e9)  # never stops: all steps run

    def cost_fn(x, w):
        out, _ = scan(step, sequences=[x], outputs_info=[T.zeros_like(x[0])],
                      non_sequences=[w], go_backwards=True)
        return T.sum(out * out)

    verify_grad(cost_fn, [rng.normal(size=(5, 3)), rng.normal(size=(3, 3)) * 0.5],
                rng=np.random.default_rng(2))


def test_until_stops_early_with_residuals():
    w = T.dmatrix("w")
    h0 = T.dvector("h0")

    def step(h, w):
        new = T.nnet.sigmoid(T.dot(w, h)) + h
        return new, until(T.sum(new) > 6.0)

    out, _ = scan(step, outputs_info=[h0], non_sequences=[w], n_steps=50)
    cost = T.sum(out[-1])
    f = function([w, h0], [out, T.grad(cost, w)])
    wv, hv = rng.normal(size=(2, 2)), np.array([0.1, 0.2])
    seq, gw = f(wv, hv)
    assert len(seq) < 50
    eps, num = 1e-6, np.zeros_like(wv)
    for idx in np.ndindex(*wv.shape):
        d = np.zeros_like(wv)
        d[idx] = eps
        num[idx] = (f(wv + d, hv)[0][-1].sum() - f(wv - d, hv)[0][-1].sum()) / (2 * eps)
    np.testing.assert_allclose(gw, num, rtol=1e-5, atol=1e-6)


def test_second_order_through_twin():
    w = T.dmatrix("w")
    x = T.dmatrix("x")

    def cost_fn(w):
        out = _gated_loop(x.dimshuffle(0, 1, "x"), w, T.ones((3, 1)))
        return T.sum(out)

    cost = cost_fn(w)
    g = T.grad(cost, w)
    hess_row = T.grad(g[0, 0], w)
    f = function([w, x], hess_row)
    wv, xv = rng.normal(size=(3, 3)), rng.normal(size=(4, 3))
    gf = function([w, x], g)
    eps = 1e-6
    num = np.zeros_like(wv)
    for idx in np.ndindex(*wv.shape):
        d = np.zeros_like(wv)
        d[idx] = eps
        num[idx] = (gf(wv + d, xv)[0, 0] - gf(wv - d, xv)[0, 0]) / (2 * eps)
    np.testing.assert_allclose(f(wv, xv), num, rtol=1e-4, atol=1e-6)


def test_held_outputs_are_never_overwritten_and_free_buffers_are_reused():
    x = T.dmatrix("x")
    w = T.dmatrix("w")
    out = _gated_loop(x.dimshuffle(0, 1, "x"), w, T.ones((3, 1)))
    cost = T.sum(out)
    f = function([x, w], out)
    g = function([x, w], T.grad(cost, [x, w]))
    a_in, b_in = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    wv = rng.normal(size=(3, 3))
    a = f(a_in, wv)
    a_copy = a.copy()
    b = f(b_in, wv)
    np.testing.assert_array_equal(a, a_copy)  # the first result is still intact
    assert not np.shares_memory(a, b)
    ga = g(a_in, wv)
    ga_copy = [v.copy() for v in ga]
    g(b_in, wv)
    for v, c in zip(ga, ga_copy):
        np.testing.assert_array_equal(v, c)
    if sys.version_info < (3, 14):  # reuse is off where reference counts are borrowed
        del a
        address = b.__array_interface__["data"][0]
        del b
        c = f(a_in, wv)
        assert c.__array_interface__["data"][0] == address  # last call's buffer, reused
        np.testing.assert_array_equal(c, a_copy)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_strided_sequences_and_cotangents(go_backwards):
    # The sequence is a transposed view (its rows are strided) and the cost's gradient
    # reaches the loop through a transpose: both are copied once, values unchanged.
    xt = T.dtensor3("xt")  # (batch, time, features): the loop reads xt.dimshuffle(1, 2, 0)
    w = T.dmatrix("w")
    x = xt.dimshuffle(1, 2, 0)

    def step(x_t, h, w):
        return T.tanh(x_t + T.dot(w, h))

    out, _ = scan(step, sequences=[x], outputs_info=[T.zeros_like(x[0])], non_sequences=[w],
                  go_backwards=go_backwards)
    weights = T.arange(4).astype("float64").dimshuffle(0, "x", "x")  # per batch entry
    cost = T.sum(out.dimshuffle(2, 0, 1) * weights)
    f = function([xt, w], [out] + T.grad(cost, [xt, w]))
    xv, wv = rng.normal(size=(4, 5, 3)), rng.normal(size=(3, 3)) * 0.5
    res = f(xv, wv)
    seq = xv.transpose(1, 2, 0)[::-1] if go_backwards else xv.transpose(1, 2, 0)
    h, hs = np.zeros((3, 4)), []
    for x_t in seq:
        h = np.tanh(x_t + wv @ h)
        hs.append(h)
    np.testing.assert_allclose(res[0], np.stack(hs), rtol=1e-12)

    def cost_np(xv_, wv_):
        s = xv_.transpose(1, 2, 0)[::-1] if go_backwards else xv_.transpose(1, 2, 0)
        h_, total = np.zeros((3, 4)), 0.0
        for x_t in s:
            h_ = np.tanh(x_t + wv_ @ h_)
            total += np.sum(h_ * np.arange(4))  # h_ is (features, batch)
        return total

    eps = 1e-6
    for idx in [(0, 0, 0), (3, 4, 2), (1, 2, 1)]:
        d = np.zeros_like(xv)
        d[idx] = eps
        num = (cost_np(xv + d, wv) - cost_np(xv - d, wv)) / (2 * eps)
        np.testing.assert_allclose(res[1][idx], num, rtol=1e-5, atol=1e-7)
    for idx in [(0, 0), (2, 1)]:
        d = np.zeros_like(wv)
        d[idx] = eps
        num = (cost_np(xv, wv + d) - cost_np(xv, wv - d)) / (2 * eps)
        np.testing.assert_allclose(res[2][idx], num, rtol=1e-5, atol=1e-7)


def test_generated_step_loop_matches_the_general_loop(monkeypatch):
    import backends.numpy.scan as numpy_scan

    x = T.dtensor3("x")
    w = T.dmatrix("w")
    h0 = T.dmatrix("h0")

    def step(x_t, h, w):
        new = T.tanh(x_t + T.dot(w, h))
        return new, T.sum(new, axis=0)  # a recurrent output and a nit-sot output

    def build():
        (hs, sums), _ = scan(step, sequences=[x], outputs_info=[h0, None], non_sequences=[w])
        return function([x, w, h0], [hs, sums])

    made = []
    real = numpy_scan.step_loop
    monkeypatch.setattr(numpy_scan, "step_loop", lambda *a: made.append(real(*a)) or made[-1])
    fast = build()
    assert made and made[-1] is not None  # the generated loop is in use
    monkeypatch.setattr(numpy_scan, "step_loop", lambda *a: None)
    general = build()
    xv, wv, hv = rng.normal(size=(6, 3, 2)), rng.normal(size=(3, 3)), rng.normal(size=(3, 2))
    for a, b in zip(fast(xv, wv, hv), general(xv, wv, hv)):
        np.testing.assert_array_equal(a, b)
    for n in (0, 1):  # no step, and only the step run before the generated loop
        for a, b in zip(fast(xv[:n], wv, hv), general(xv[:n], wv, hv)):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_generated_backward_loop_matches_the_general_loop(monkeypatch, go_backwards):
    import backends.numpy.scan as numpy_scan

    x = T.dtensor3("x")
    w = T.dmatrix("w")
    h0 = T.dmatrix("h0")
    c0 = T.dmatrix("c0")

    def step(x_t, h, c, w):
        c_new = T.nnet.sigmoid(x_t + T.dot(w, h)) * c + T.tanh(x_t)
        h_new = T.tanh(c_new) * h
        return h_new, c_new, T.sum(h_new * c_new, axis=0)  # two states and a nit-sot

    def build():
        (hs, cs, sums), _ = scan(step, sequences=[x], outputs_info=[h0, c0, None],
                                 non_sequences=[w], go_backwards=go_backwards)
        cost = T.sum(hs ** 2) + T.sum(sums * T.arange(sums.shape[0]).dimshuffle(0, "x"))
        return function([x, w, h0, c0], [cost] + T.grad(cost, [x, w, h0, c0]))

    made = []
    real = numpy_scan.backward_loop
    monkeypatch.setattr(numpy_scan, "backward_loop",
                        lambda *a: made.append(real(*a)) or made[-1])
    fast = build()
    assert made and made[-1] is not None  # the generated backward loop is in use
    monkeypatch.setattr(numpy_scan, "backward_loop", lambda *a: None)
    general = build()
    xv, wv = rng.normal(size=(6, 3, 2)), rng.normal(size=(3, 3))
    hv, cv = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    for n in (6, 1, 0):
        for a, b in zip(fast(xv[:n], wv, hv, cv), general(xv[:n], wv, hv, cv)):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_backward_loop_concatenates_gate_gradients_into_their_rows(monkeypatch, go_backwards):
    """A sequence gradient that is a Join along axis 0 (split gates' gradients) is written
    by the generated backward loop straight into its row: same values as the general loop."""
    import backends.numpy.scan as numpy_scan
    import backends.numpy.scan_loops as loops

    x = T.dtensor3("x")
    w = T.dmatrix("w")
    h0 = T.dmatrix("h0")

    def step(x_t, h, w):
        a, b = T.split(x_t + T.dot(w, h), [3, 3], 2, axis=0)
        return T.nnet.sigmoid(a) * T.tanh(b) + 0.5 * h

    def build():
        hs, _ = scan(step, sequences=[x], outputs_info=[h0], non_sequences=[w],
                     go_backwards=go_backwards)
        cost = T.sum(hs ** 2)
        return function([x, w, h0], [cost] + T.grad(cost, [x, w, h0]))

    sources = []
    real = loops._define
    monkeypatch.setattr(loops, "_define",
                        lambda program, src, *a, **k: sources.append("\n".join(src))
                        or real(program, src, *a, **k))
    fast = build()
    assert any("_scan_concat(" in s and "out=D0[t]" in s and "D0[t] = r0" not in s
               for s in sources)
    monkeypatch.setattr(numpy_scan, "backward_loop", lambda *a: None)
    general = build()
    xv, wv, hv = rng.normal(size=(5, 6, 2)), rng.normal(size=(6, 3)), rng.normal(size=(3, 2))
    for n in (5, 1):
        got, want = fast(xv[:n], wv, hv), general(xv[:n], wv, hv)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)
    held = fast(xv, wv, hv)[1]  # the gradient returned is not overwritten by a later call
    keep = held.copy()
    fast(2 * xv, wv, hv)
    np.testing.assert_array_equal(held, keep)
