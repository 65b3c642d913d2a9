"""scan: the Theano tutorial loops, taps, nit-sot outputs, shared and random updates,
gradients through the loop, errors, and compile-once."""
import numpy as np
import pytest

import core
import core.tensor as T
from core import function, shared
from core.gradient import verify_grad
from core.scan import Scan, ScanGrad, scan
from core.tensor.random import RandomStreams

rng = np.random.default_rng(0)


def test_power_by_scan():
    k = T.iscalar("k")
    A = T.dvector("A")
    result, updates = scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A),
                           non_sequences=A, n_steps=k)
    power = function([A, k], result[-1], updates=updates)
    np.testing.assert_allclose(power(np.arange(10.0), 2), np.arange(10.0) ** 2)
    np.testing.assert_allclose(power(np.arange(4.0), 5), np.arange(4.0) ** 5)
    assert core.scan is scan


def test_polynomial_from_coefficients():
    coefficients = T.dvector("coefficients")
    x = T.dscalar("x")
    max_coefficients_supported = 10000
    components, _ = scan(lambda c, power, free_var: c * (free_var ** power),
                         sequences=[coefficients, T.arange(max_coefficients_supported)],
                         non_sequences=x)
    polynomial = components.sum()
    f = function([coefficients, x], polynomial)
    np.testing.assert_allclose(f(np.asarray([1.0, 0.0, 2.0]), 3.0), 19.0)


def test_running_sum_and_go_backwards():
    v = T.dvector("v")
    acc0 = T.as_tensor_variable(np.asarray(0.0))
    fwd, _ = scan(lambda x, acc: acc + x, sequences=v, outputs_info=acc0)
    bwd, _ = scan(lambda x, acc: acc + x, sequences=v, outputs_info=acc0, go_backwards=True)
    f = function([v], [fwd, bwd])
    data = rng.normal(size=7)
    a, b = f(data)
    np.testing.assert_allclose(a, np.cumsum(data))
    np.testing.assert_allclose(b, np.cumsum(data[::-1]))


def test_several_sequences_taps_and_nitsot_outputs():
    x, y = T.dvector("x"), T.dmatrix("y")

    def step(x_tm1, x_t, x_tp1, y_t, h_tm2, h_tm1, w):
        h = h_tm1 * w + h_tm2 + x_t * y_t.sum()
        return h, x_tm1 + x_tp1, y_t * 2

    h0 = T.dvector("h0")
    w = T.dscalar("w")
    (h, side, dbl), _ = scan(step, sequences=[dict(input=x, taps=[-1, 0, 1]), y],
                             outputs_info=[dict(initial=h0, taps=[-2, -1]), None, None],
                             non_sequences=w)
    f = function([x, y, h0, w], [h, side, dbl])
    xv, yv, hv = rng.normal(size=6), rng.normal(size=(5, 3)), np.array([0.5, -1.0])
    got_h, got_side, got_dbl = f(xv, yv, hv, 0.7)
    n = 4  # 6 - (1 - (-1)) steps
    hist = list(hv)
    for t in range(n):
        hist.append(hist[-1] * 0.7 + hist[-2] + xv[t + 1] * yv[t].sum())
    np.testing.assert_allclose(got_h, hist[2:])
    np.testing.assert_allclose(got_side, xv[:n] + xv[2:n + 2])
    np.testing.assert_allclose(got_dbl, yv[:n] * 2)


def test_outputs_info_none_only_and_n_steps_without_sequences():
    n = T.iscalar("n")
    out, _ = scan(lambda: T.as_tensor_variable(np.ones(2)), n_steps=n)
    assert function([n], out)(3).shape == (3, 2)


def test_shared_updates_inside_the_step():
    counter = shared(np.asarray(0.0), name="counter")
    v = T.dvector("v")

    def step(x):
        return x + counter, {counter: counter + 1}

    out, updates = scan(step, sequences=v)
    assert list(updates) == [counter]
    f = function([v], out, updates=updates)
    np.testing.assert_allclose(f(np.zeros(3)), [0.0, 1.0, 2.0])
    assert counter.get_value() == 3.0
    np.testing.assert_allclose(f(np.zeros(2)), [3.0, 4.0])


def test_random_numbers_inside_the_step():
    srng = RandomStreams(seed=3)
    n = T.iscalar("n")
    out, updates = scan(lambda: srng.uniform((2,)), n_steps=n)
    assert len(updates) == 1
    f = function([n], out, updates=updates)
    a = f(4)
    assert a.shape == (4, 2) and len({tuple(r) for r in a}) == 4  # each step draws anew
    assert not np.allclose(f(4), a)  # and each call too
    srng.seed(3)
    np.testing.assert_array_equal(f(4), a)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradient_of_rnn_against_finite_differences(dtype):
    def rnn(x, h0, W, U):
        h, _ = scan(lambda x_t, h_tm1, W, U: T.tanh(T.dot(x_t, W) + T.dot(h_tm1, U)),
                    sequences=x, outputs_info=h0, non_sequences=[W, U])
        return h

    verify_grad(rnn, [rng.normal(size=(5, 3)), rng.normal(size=4),
                      rng.normal(size=(3, 4)) * 0.5, rng.normal(size=(4, 4)) * 0.5], dtype=dtype)


def test_gradient_with_taps_backwards_and_nitsot():
    def f(x, h0, w):
        def step(x_tm2, x_t, h_tm2, h_tm1, w):
            h = T.tanh(h_tm1 * w + 0.5 * h_tm2 + x_t * x_tm2)
            return h, T.sin(h * x_t)

        (h, s), _ = scan(step, sequences=dict(input=x, taps=[-2, 0]),
                         outputs_info=[dict(initial=h0, taps=[-2, -1]), None],
                         non_sequences=w, go_backwards=True)
        return h.sum() + (s ** 2).sum()

    verify_grad(f, [rng.normal(size=7), rng.normal(size=2), np.asarray(0.8)])


def test_gradient_through_power_scan_uses_scangrad():
    A = T.dvector("A")
    result, _ = scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A),
                     non_sequences=A, n_steps=4)
    g = T.grad(result[-1].sum(), A)
    f = function([A], g)
    assert any(isinstance(n.op, ScanGrad) for n in f.maker.fgraph.toposort())
    a = np.array([1.0, 2.0, -0.5])
    np.testing.assert_allclose(f(a), 4 * a ** 3)


def test_truncated_gradient():
    x = T.dvector("x")
    h, _ = scan(lambda x_t, h: h * 0.5 + x_t, sequences=x,
                outputs_info=T.as_tensor_variable(np.asarray(0.0)), truncate_gradient=2)
    g = function([x], T.grad(h[-1], x))(np.ones(5))
    np.testing.assert_allclose(g, [0, 0, 0, 0.5, 1.0])


def test_step_compiled_once_not_per_step(monkeypatch):
    v = T.dvector("v")
    out, _ = scan(lambda x, acc: acc + x * 2, sequences=v,
                  outputs_info=T.as_tensor_variable(np.asarray(0.0)))
    scan_op = out.owner.op
    assert isinstance(scan_op, Scan)
    calls = []
    original = type(scan_op).inner_program

    def counting(self, *args):
        calls.append(1)
        return original(self, *args)

    monkeypatch.setattr(type(scan_op), "inner_program", counting)
    f = function([v], out)
    f(np.ones(50))
    f(np.ones(20))
    assert len(calls) == 1


def test_errors_name_the_problem():
    v = T.dvector("v")
    with pytest.raises(ValueError, match="n_steps"):
        scan(lambda: v, outputs_info=None)
    with pytest.raises(ValueError, match="outputs_info"):
        scan(lambda x, a: (a, a), sequences=v, outputs_info=[T.dscalar()])
    with pytest.raises(TypeError, match="dtype"):
        scan(lambda x, a: a + x, sequences=v, outputs_info=T.iscalar())
    with pytest.raises(ValueError, match="dimensions"):
        scan(lambda x, a: T.stack([a, x]), sequences=v, outputs_info=T.dscalar())
    n = T.iscalar("n")
    out, _ = scan(lambda x: x, sequences=v, n_steps=n)
    with pytest.raises(ValueError, match="allow only 3 steps"):
        function([v, n], out)(np.ones(3), 5)
    grow, _ = scan(lambda i: T.arange(i), sequences=T.arange(3))
    with pytest.raises(ValueError, match="keep one shape"):
        function([], grow)()


def test_matrix_states_and_float32():
    x = T.tensor3("x", dtype="float32")
    h0 = T.matrix("h0", dtype="float32")
    W = T.matrix("W", dtype="float32")
    h, _ = scan(lambda x_t, h, W: T.tanh(x_t + T.dot(h, W)), sequences=x, outputs_info=h0,
                non_sequences=W)
    assert h.dtype == "float32"
    xv = rng.normal(size=(4, 2, 3)).astype("float32")
    hv = np.zeros((2, 3), "float32")
    Wv = rng.normal(size=(3, 3)).astype("float32")
    got = function([x, h0, W], h)(xv, hv, Wv)
    ref, cur = [], hv
    for t in range(4):
        cur = np.tanh(xv[t] + cur @ Wv)
        ref.append(cur)
    np.testing.assert_allclose(got, ref, rtol=1e-5)


def test_custom_rnn_example_learns(capsys):
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[2] / "examples" / "custom_rnn.py"
    spec = importlib.util.spec_from_file_location("custom_rnn", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(epochs=8, length=6) > 0.85
    assert "test accuracy" in capsys.readouterr().out


def test_gradient_replays_the_forward_random_draws():
    srng = RandomStreams(seed=5)
    x = T.dvector("x")
    w = T.dscalar("w")

    def step(x_t, h, w):
        mask = srng.binomial((), p=0.5).astype("float64")
        return T.tanh(h * w + x_t) * mask + h * (1 - mask)

    h, _ = scan(step, sequences=x, outputs_info=T.as_tensor_variable(np.asarray(0.3)),
                non_sequences=w)
    cost = (h ** 2).sum()
    # No updates: the generator state stays put, so the function is deterministic.
    f = function([x, w], cost, no_default_updates=True)
    g = function([x, w], T.grad(cost, [x, w]), no_default_updates=True)
    xv, wv, eps = rng.normal(size=6), 0.7, 1e-6
    gx, gw = g(xv, wv)
    num_w = (f(xv, wv + eps) - f(xv, wv - eps)) / (2 * eps)
    np.testing.assert_allclose(gw, num_w, rtol=1e-5)
    num_x = [(f(xv + eps * e, wv) - f(xv - eps * e, wv)) / (2 * eps) for e in np.eye(6)]
    np.testing.assert_allclose(gx, num_x, rtol=1e-5, atol=1e-8)
    assert np.any(gx == 0) and np.any(gx != 0)  # some steps were masked out


def test_nested_scan_and_its_gradient():
    M = T.dmatrix("M")

    def row_sum_of_squares(row):
        inner, _ = scan(lambda v, acc: acc + v * v, sequences=row,
                        outputs_info=T.as_tensor_variable(np.asarray(0.0)))
        return inner[-1]

    out, _ = scan(row_sum_of_squares, sequences=M)
    mv = rng.normal(size=(3, 4))
    np.testing.assert_allclose(function([M], out)(mv), (mv ** 2).sum(axis=1))
    np.testing.assert_allclose(function([M], T.grad(out.sum(), M))(mv), 2 * mv)


def test_unused_gradients_are_pruned():
    x = T.tensor3("x")
    W = T.dmatrix("W")
    h, _ = scan(lambda x_t, h, W: T.tanh(x_t + T.dot(h, W)), sequences=x,
                outputs_info=T.zeros((x.shape[1], x.shape[2])), non_sequences=W)
    f_w = function([x, W], T.grad(h.sum(), W))
    f_both = function([x, W], T.grad(h.sum(), [x, W]))
    (node_w,) = [n for n in f_w.maker.fgraph.toposort() if isinstance(n.op, ScanGrad)]
    (node_b,) = [n for n in f_both.maker.fgraph.toposort() if isinstance(n.op, ScanGrad)]
    assert len(node_w.outputs) < len(node_b.outputs)
    xv, wv = rng.normal(size=(4, 2, 3)), rng.normal(size=(3, 3)) * 0.5
    np.testing.assert_allclose(f_w(xv, wv), f_both(xv, wv)[1])


def test_step_never_overwrites_the_callers_arrays():
    x = T.dmatrix("x")
    h0 = T.dvector("h0")
    out, _ = scan(lambda x_t, h: T.exp(x_t * 2 + 1) + h, sequences=x, outputs_info=h0)
    f = function([x, h0], [out, out * 3])
    xv, hv = rng.normal(size=(3, 2)), rng.normal(size=2)
    xc, hc = xv.copy(), hv.copy()
    a, b = f(xv, hv)
    np.testing.assert_array_equal(xv, xc)
    np.testing.assert_array_equal(hv, hc)
    np.testing.assert_allclose(b, 3 * a)
    const_loop, _ = scan(lambda: T.as_tensor_variable(np.ones(2)), n_steps=4)
    g = function([], const_loop)
    assert any(isinstance(node.op, Scan) for node in g.maker.fgraph.toposort())


def _grad_fd(f_grad, point, eps=1e-5):
    """Finite differences of a gradient function: the Hessian, column by column."""
    cols = []
    for e in np.eye(point.size):
        cols.append((f_grad(point + eps * e.reshape(point.shape))
                     - f_grad(point - eps * e.reshape(point.shape))) / (2 * eps))
    return np.stack(cols, axis=-1)


def test_hessian_through_an_rnn():
    x = T.dvector("x")
    w = T.dscalar("w")
    h, _ = scan(lambda x_t, h, w: T.tanh(h * w + x_t), sequences=x,
                outputs_info=T.as_tensor_variable(np.asarray(0.1)), non_sequences=w)
    cost = (h ** 2).sum()
    xv, wv = rng.normal(size=4), 0.6
    H = function([x, w], T.hessian(cost, x))(xv, wv)
    g = function([x, w], T.grad(cost, x))
    np.testing.assert_allclose(H, _grad_fd(lambda a: g(a, wv), xv), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(H, H.T, atol=1e-10)
    Hw = function([x, w], T.hessian(cost, w))(xv, wv)
    gw = function([x, w], T.grad(cost, w))
    np.testing.assert_allclose(Hw, (gw(xv, wv + 1e-5) - gw(xv, wv - 1e-5)) / 2e-5, rtol=1e-5)


def test_second_order_with_taps_backwards_and_nitsot():
    x = T.dvector("x")
    h0 = T.dvector("h0")

    def step(x_tm1, x_t, h_tm2, h_tm1):
        h = T.tanh(0.7 * h_tm1 - 0.3 * h_tm2 + x_t * x_tm1)
        return h, T.sin(h + x_t)

    (h, s), _ = scan(step, sequences=dict(input=x, taps=[-1, 0]),
                     outputs_info=[dict(initial=h0, taps=[-2, -1]), None], go_backwards=True)
    cost = (h ** 2).sum() + s.sum()
    xv, hv = rng.normal(size=5), rng.normal(size=2)
    H = function([x, h0], T.hessian(cost, [x, h0]))(xv, hv)
    gx = function([x, h0], T.grad(cost, x))
    gh = function([x, h0], T.grad(cost, h0))
    np.testing.assert_allclose(H[0], _grad_fd(lambda a: gx(a, hv), xv), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(H[1], _grad_fd(lambda a: gh(xv, a), hv), rtol=1e-5, atol=1e-7)


def test_rop_through_a_scan():
    x, v = T.dvectors("x", "v")
    W = T.dmatrix("W")
    h, _ = scan(lambda x_t, h, W: T.tanh(T.dot(W, h) + x_t), sequences=x.reshape((3, 2)),
                outputs_info=T.zeros((2,)), non_sequences=W)
    Jv = function([x, v, W], T.Rop(h.flatten(), x, v))
    xv, vv, Wv = rng.normal(size=6), rng.normal(size=6), rng.normal(size=(2, 2))
    f = function([x, W], h.flatten())
    eps = 1e-6
    np.testing.assert_allclose(Jv(xv, vv, Wv),
                               (f(xv + eps * vv, Wv) - f(xv - eps * vv, Wv)) / (2 * eps),
                               rtol=1e-5, atol=1e-8)


def test_second_order_with_truncated_gradient_is_a_clear_error():
    from core.gradient import NullTypeGradError

    x = T.dvector("x")
    h, _ = scan(lambda x_t, h: T.tanh(h + x_t), sequences=x,
                outputs_info=T.as_tensor_variable(np.asarray(0.0)), truncate_gradient=2)
    with pytest.raises(NullTypeGradError, match="ScanGrad"):
        T.hessian(h.sum(), x)


def test_random_non_sequence_is_drawn_once_per_call():
    srng = RandomStreams(seed=8)
    mask = srng.uniform((3,))
    out, updates = scan(lambda m: m * 1.0, non_sequences=mask, n_steps=4)
    assert updates == {} or len(updates) == 0
    f = function([], out)
    a = f()
    np.testing.assert_array_equal(a, np.tile(a[0], (4, 1)))  # the same draw at every step
    assert not np.allclose(f()[0], a[0])  # and a new one each call (default update)


def test_invariant_work_is_hoisted_out_of_the_step():
    W = T.dmatrix("W")
    x = T.dmatrix("x")
    out, _ = scan(lambda x_t, W: T.dot(x_t, T.exp(W) * 2), sequences=x, non_sequences=W)
    inner = out.owner.op.fgraph
    assert not any(n.op.__class__.__name__ == "Elemwise" for n in inner.toposort())
    wv, xv = rng.normal(size=(2, 2)), rng.normal(size=(3, 2))
    np.testing.assert_allclose(function([x, W], out)(xv, wv), xv @ (np.exp(wv) * 2))
    g = function([x, W], T.grad(out.sum(), W))(xv, wv)
    np.testing.assert_allclose(g, np.exp(wv) * 2 * (xv.sum(axis=0)[:, None]))


def test_integer_state_next_to_a_float_state_and_only_updates():
    x = T.dvector("x")

    def step(x_t, count, acc):
        return count + 1, acc * 0.5 + x_t * T.cast(count, "float64")

    (count, acc), _ = scan(step, sequences=x,
                           outputs_info=[T.as_tensor_variable(np.asarray(0, "int64")),
                                         T.as_tensor_variable(np.asarray(0.0))])
    f = function([x], [count, acc, T.grad(acc[-1], x)])
    c, a, g = f(np.ones(3))
    np.testing.assert_array_equal(c, [1, 2, 3])
    np.testing.assert_allclose(a, [0.0, 1.0, 2.5])
    np.testing.assert_allclose(g, [0.0, 0.5, 2.0])

    total = shared(np.asarray(0.0))
    outs, updates = scan(lambda x_t: {total: total + x_t}, sequences=x)
    assert outs == [] and list(updates) == [total]
    function([x], [], updates=updates)(np.arange(4.0))
    assert total.get_value() == 6.0


def test_zero_steps():
    x = T.dvector("x")
    h, _ = scan(lambda x_t, h: h + x_t, sequences=x,
                outputs_info=T.as_tensor_variable(np.asarray(1.0)))
    f = function([x], [h, T.grad(h.sum(), x)])
    out, g = f(np.zeros(0))
    assert out.shape == (0,) and g.shape == (0,)


def test_strict_mode_name_and_print_in_the_step(capsys):
    from core.printing import Print

    x = T.dvector("x")
    w = T.dscalar("w")
    with pytest.raises(ValueError, match="strict=True.*w"):
        scan(lambda x_t: x_t * w, sequences=x, strict=True)
    out, _ = scan(lambda x_t, w: Print("step", attrs=("__str__",))(x_t * w), sequences=x,
                  non_sequences=w, strict=True, mode="FAST_COMPILE", name="scaled")
    assert str(out.owner.op) == "Scan{scaled}" and out.owner.op.mode == "FAST_COMPILE"
    np.testing.assert_allclose(function([x, w], out)(np.array([1.0, 2.0]), 3.0), [3.0, 6.0])
    assert capsys.readouterr().out == "step __str__ = 3.0\nstep __str__ = 6.0\n"


def test_until_stops_the_loop_and_gradients_follow():
    from core.scan import until

    max_value = T.dscalar("max_value")
    out, _ = scan(lambda p, m: (p * 2, until(p * 2 > m)),
                  outputs_info=T.as_tensor_variable(np.asarray(1.0)), non_sequences=max_value,
                  n_steps=1024)
    f = function([max_value], out)
    np.testing.assert_allclose(f(45.0), 2.0 ** np.arange(1, 7))
    x = T.dvector("x")
    a = T.dscalar("a")
    h, _ = scan(lambda x_t, h, a: (h * a + x_t, until(x_t < 0)), sequences=x,
                outputs_info=T.as_tensor_variable(np.asarray(0.0)), non_sequences=a)
    g = function([x, a], [h] + T.grad(h.sum(), [x, a]))
    hv, gx, ga = g(np.array([1.0, 2.0, -1.0, 5.0]), 0.5)
    np.testing.assert_allclose(hv, [1.0, 2.5, 0.25])
    np.testing.assert_allclose(gx, [1.75, 1.5, 1.0, 0.0])
    np.testing.assert_allclose(ga, 0 + 1.0 + (2.5 + 0.5 * 1.0))
