"""Scan loops run in C (backends/c/scan_loop.py) against the numpy backend's Python loops."""
from __future__ import annotations

import contextlib

import numpy as np
import pytest

import backends.c.scan_loop as scan_loop
import core.tensor as T
from core import function, grad, scan

from c_helpers import assert_same, backend, needs_cc

pytestmark = [needs_cc, pytest.mark.skipif(not scan_loop.available(),
                                           reason="no BLAS found for the C loop")]


@contextlib.contextmanager
def counting_c_loops():
    """Every loop C-eligible (no work threshold); yields the list of C runs' outcomes."""
    runs, real_run, old = [], scan_loop.run, scan_loop.LOOP_WORK

    def run(plan, groups, t0, t1, dt):
        ok = real_run(plan, groups, t0, t1, dt)
        runs.append(ok)
        return ok

    scan_loop.run, scan_loop.LOOP_WORK = run, 0
    try:
        yield runs
    finally:
        scan_loop.run, scan_loop.LOOP_WORK = real_run, old


def both_backends(build, *data, tol=None, expect_c=True):
    """Compile ``build() -> (inputs, outputs)`` with each backend, compare the results, and
    check that the C backend ran its loops in C (``expect_c``)."""
    results = {}
    for name in ("numpy", "c"):
        with backend(name), counting_c_loops() as runs:
            inputs, outputs = build()
            results[name] = function(inputs, outputs)(*data)
        if name == "c":
            assert bool(runs) == expect_c and all(runs), runs
    for k, (got, want) in enumerate(zip(results["c"], results["numpy"])):
        assert_same(got, want, want.dtype, f"output {k}", tol=tol)
    return results["c"]


def lstm_like(dtype, go_backwards=False):
    """A feature-major LSTM step: one product, split gates, a fused update, two states."""
    def build():
        xs = T.tensor3("xs", dtype=dtype)  # (time, 4u, batch)
        w = T.matrix("w", dtype=dtype)     # (u, 4u): read transposed
        h0, c0 = T.matrix("h0", dtype=dtype), T.matrix("c0", dtype=dtype)

        def step(x, h, c, w):
            z = x + T.dot(w.T, h)
            i, f, g, o = T.split(z, [3, 3, 3, 3], 4, axis=0)
            c = T.nnet.sigmoid(f) * c + T.nnet.sigmoid(i) * T.tanh(g)
            return [T.nnet.sigmoid(o) * T.tanh(c), c]

        (hs, cs), _ = scan(step, sequences=[xs], outputs_info=[h0, c0], non_sequences=[w],
                           go_backwards=go_backwards)
        cost = T.sum(hs ** 2) + T.sum(cs[-1])
        return [xs, w, h0, c0], [hs, cs] + grad(cost, [xs, w, h0, c0])

    rng = np.random.default_rng(1)
    data = [rng.standard_normal(s).astype(dtype) for s in ((7, 12, 5), (3, 12), (3, 5), (3, 5))]
    return build, data


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_lstm_like_loop_and_gradient_match_numpy(dtype, go_backwards):
    build, data = lstm_like(dtype, go_backwards)
    both_backends(build, *data)


def test_nitsot_outputs_a_state_returned_twice_and_a_passthrough_state():
    def build():
        xs, w = T.matrix("xs"), T.matrix("w")

        def step(x, h, keep, w):
            new = T.tanh(T.dot(h, w) + x)
            return [new, keep, T.dot(new, w), new]  # new twice; keep passes through

        outs, _ = scan(step, sequences=[xs], outputs_info=[T.zeros((4,)), T.ones((2,)), None,
                                                           None],
                       non_sequences=[w])
        return [xs, w], outs

    rng = np.random.default_rng(2)
    both_backends(build, rng.standard_normal((6, 4)).astype("float32"),
                  rng.standard_normal((4, 4)).astype("float32"))


def test_join_written_in_place_and_strided_non_sequence():
    def build():
        xs, w = T.tensor3("xs"), T.matrix("w")

        def step(x, h, w):
            a, b = T.split(x, [2, 3], 2, axis=1)
            joined = T.concatenate([T.exp(a) * h[:, :2], T.sin(b) + h[:, 2:]], axis=1)
            return T.dot(joined, w)  # w arrives Fortran-ordered: a transposed BLAS operand

        hs, _ = scan(step, sequences=[xs], outputs_info=[T.zeros((3, 5))], non_sequences=[w])
        cost = T.sum(hs * hs)
        return [xs, w], [hs] + grad(cost, [xs, w])

    rng = np.random.default_rng(3)
    w = np.asfortranarray(rng.standard_normal((5, 5)).astype("float32") * 0.5)
    both_backends(build, rng.standard_normal((5, 3, 5)).astype("float32"), w)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
def test_recurrent_layers_run_their_loops_in_c(kind):
    from layers_on_graph import layers

    rng = np.random.default_rng(4)
    data = rng.random((3, 6, 4)).astype("float32")

    def build():
        layer = getattr(layers, kind)(5, return_sequences=True)
        x = T.TensorType("float32", (None, 6, 4))("x")
        out = layer(x)
        layer.set_weights([rng.standard_normal(w.shape).astype("float32") * 0.3
                           for w in layer.get_weights()])
        return [x], [out] + grad(T.sum(out ** 2), layer.trainable_weights)

    state = rng.bit_generator.state
    results = []
    for name in ("numpy", "c"):
        rng.bit_generator.state = state  # the same weights for both
        with backend(name), counting_c_loops() as runs:
            inputs, outputs = build()
            results.append(function(inputs, outputs)(data))
        if name == "c":
            assert len(runs) == 2 and all(runs)  # the forward loop and the backward loop
    for got, want in zip(results[1], results[0]):
        assert_same(got, want, "float32")


def test_a_step_with_an_uncovered_node_keeps_the_python_loop():
    def build():
        xs = T.matrix("xs")
        hs, _ = scan(lambda x, h: h + T.sum(x) * x, sequences=[xs], outputs_info=[T.zeros((3,))])
        return [xs], [hs]

    both_backends(build, np.arange(12, dtype="float32").reshape(4, 3), expect_c=False)


def test_a_kernel_error_inside_the_c_loop_raises_the_python_error():
    def build():
        xs = T.ivector("xs")
        hs, _ = scan(lambda x, h: h + 2 ** x, sequences=[xs], outputs_info=[T.as_tensor_variable(np.int64(0))])
        return [xs], [hs]

    for name in ("numpy", "c"):
        with backend(name), counting_c_loops() as runs:
            inputs, outputs = build()
            f = function(inputs, outputs)
            assert f(np.array([1, 2, 3], "int32"))[0].tolist() == [2, 6, 14]
            with pytest.raises(ValueError, match="negative integer powers"):
                f(np.array([1, -2, 3], "int32"))
        assert runs == ([True, False] if name == "c" else [])  # C failed, Python raised


def test_the_loop_is_replanned_for_a_new_layout():
    build, data = lstm_like("float32")
    with backend("c"), counting_c_loops() as runs:
        inputs, outputs = build()
        f = function(inputs, outputs)
        first = f(*data)
        wider = [np.concatenate([d, d], axis=-1) if d.ndim == 3 or k >= 2 else d
                 for k, d in enumerate(data)]
        second = f(*wider)
    assert all(runs) and len(runs) == 4
    np.testing.assert_allclose(second[0][..., :5], first[0], rtol=1e-5, atol=1e-6)


def test_loops_run_in_c_when_modules_compile_at_once():
    from core.config import config

    build, data = lstm_like("float64")
    with config.change_flags(c_lazy=False):  # eager C kernels give their addresses too
        both_backends(build, *data)
