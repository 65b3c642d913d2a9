"""SimpleRNN, LSTM, GRU: values against step-by-step numpy references, weights in Keras's
layout, gradients against finite differences, dropout, errors, and the loop's structure."""
import numpy as np
import pytest

import core.tensor as T
from core.graph.utils import graph_inputs
from core import function
from core.scan import Scan
from layers_on_graph import Input, Model, layers

from rnn_reference import gru_step, lstm_step, run_rnn, simple_rnn_step

RNG = np.random.default_rng(0)
CASES = {
    "simple_rnn": (layers.SimpleRNN, {}, simple_rnn_step, {}),
    "lstm": (layers.LSTM, {}, lstm_step, {}),
    "gru": (layers.GRU, {}, gru_step, {"reset_after": True}),
    "gru_reset_before": (layers.GRU, {"reset_after": False}, gru_step, {"reset_after": False}),
}


def _randomize(layer, scale=0.5):
    """Random weights (biases too, so that their layout is tested)."""
    layer.set_weights([RNG.normal(scale=scale, size=w.shape) for w in layer.get_weights()])
    return [w.astype(np.float64) for w in layer.get_weights()]


def _weights_for_reference(layer, weights):
    return weights if layer.use_bias else weights + [None]


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-10), ("float32", 2e-5)])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("case", sorted(CASES))
def test_forward_against_reference(case, go_backwards, dtype, tol):
    cls, kwargs, step, step_kwargs = CASES[case]
    layer = cls(5, return_sequences=True, return_state=True, go_backwards=go_backwards,
                dtype=dtype, **kwargs)
    x = RNG.normal(size=(3, 6, 4)).astype(dtype)
    layer(x)
    weights = _randomize(layer)
    outs = layer(x)
    n_states = len(layer.state_size)
    init = [np.zeros((3, 5))] * n_states
    ref_seq, ref_last, ref_states = run_rnn(step, x, weights, init, go_backwards=go_backwards,
                                            **step_kwargs)
    assert outs[0].dtype == dtype and outs[0].shape == (3, 6, 5)
    np.testing.assert_allclose(outs[0], ref_seq, atol=tol, rtol=tol)
    for got, ref in zip(outs[1:], ref_states):
        np.testing.assert_allclose(got, ref, atol=tol, rtol=tol)
    last = cls.from_config({**layer.get_config(), "return_sequences": False,
                            "return_state": False, "name": None})
    last(x)
    last.set_weights(layer.get_weights())
    np.testing.assert_allclose(last(x), ref_last, atol=tol, rtol=tol)


@pytest.mark.parametrize("case", sorted(CASES))
def test_initial_state_and_no_bias(case):
    cls, kwargs, step, step_kwargs = CASES[case]
    layer = cls(3, use_bias=False, return_sequences=True, dtype="float64", **kwargs)
    x = RNG.normal(size=(2, 4, 3))
    n_states = len(layer.state_size)
    init = [RNG.normal(size=(2, 3)) for _ in range(n_states)]
    layer(x, initial_state=init)
    weights = _randomize(layer)
    assert len(weights) == 2
    ref, _, _ = run_rnn(step, x, weights + [None], init, **step_kwargs)
    np.testing.assert_allclose(layer(x, initial_state=init), ref, atol=1e-10)


def test_keras_weight_layout():
    x = np.zeros((2, 3, 7), np.float32)
    expected = {layers.SimpleRNN(4): [(7, 4), (4, 4), (4,)],
                layers.LSTM(4): [(7, 16), (4, 16), (16,)],
                layers.GRU(4): [(7, 12), (4, 12), (2, 12)],
                layers.GRU(4, reset_after=False): [(7, 12), (4, 12), (12,)]}
    for layer, shapes in expected.items():
        layer(x)
        assert [w.shape for w in layer.get_weights()] == shapes
        assert [w.name.split("/")[-1] for w in layer.weights] == ["kernel", "recurrent_kernel",
                                                                  "bias"]
        rk = layer.get_weights()[1]
        u = layer.units
        for k in range(rk.shape[1] // u):  # orthogonal blocks, as Keras's initializer
            np.testing.assert_allclose(rk[:, k * u:(k + 1) * u].T @ rk[:, k * u:(k + 1) * u]
                                       if rk.shape[1] == u else rk @ rk.T, np.eye(u), atol=1e-5)
            break
    lstm_bias = layers.LSTM(3)
    lstm_bias(x)
    np.testing.assert_array_equal(lstm_bias.get_weights()[2], [0, 0, 0, 1, 1, 1] + [0] * 6)
    no_forget = layers.LSTM(3, unit_forget_bias=False)
    no_forget(x)
    np.testing.assert_array_equal(no_forget.get_weights()[2], np.zeros(12))


def _directional_fd_check(layer, x, mask=None, initial_state=None, eps=1e-6, rtol=1e-6):
    """Gradient of sum(out * D) w.r.t. the input and every weight, against central finite
    differences along one random direction of all of them at once."""
    xv = T.TensorType("float64", (None,) + x.shape[1:])("x")
    out = layer(xv, mask=mask, initial_state=initial_state)
    out = out[0] if isinstance(out, list) else out
    f_out = function([xv], out)
    direction = RNG.uniform(-1, 1, size=f_out(x).shape)
    cost = T.sum(out * T.constant(direction))
    params = layer.trainable_weights
    f_grad = function([xv], [cost] + T.grad(cost, [xv] + params))
    grads = f_grad(x)[1:]
    values = [w.get_value() for w in params]
    dirs = [RNG.uniform(-1, 1, size=np.shape(v)) for v in [x] + values]
    analytic = sum(float(np.sum(g * d)) for g, d in zip(grads, dirs))
    f_cost = function([xv], cost)

    def at(sign):
        for w, v, d in zip(params, values, dirs[1:]):
            w.set_value(v + sign * eps * d)
        return float(f_cost(x + sign * eps * dirs[0]))

    numeric = (at(1) - at(-1)) / (2 * eps)
    for w, v in zip(params, values):
        w.set_value(v)
    assert abs(numeric - analytic) <= rtol * max(1.0, abs(analytic)) + 1e-7, (numeric, analytic)


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_against_finite_differences(case):
    cls, kwargs, _, _ = CASES[case]
    x = RNG.normal(size=(3, 5, 4))
    mask = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1], [1, 1, 1, 1, 1]], bool)
    for extra, call_kwargs in [({"return_sequences": True}, {}),
                               ({"go_backwards": True}, {"mask": T.constant(mask)})]:
        layer = cls(3, dtype="float64", **kwargs, **extra)
        layer(x)
        _randomize(layer)
        _directional_fd_check(layer, x, **call_kwargs)


def test_gradient_float32_verify_grad():
    from core.gradient import verify_grad

    for cls in (layers.SimpleRNN, layers.LSTM, layers.GRU):
        layer = cls(3, return_sequences=True)
        x = RNG.normal(size=(2, 4, 3)).astype(np.float32)
        layer(x)
        verify_grad(lambda v: layer(v), [x], dtype="float32")


def test_dropout_training_only_and_trains():
    x = RNG.normal(size=(4, 6, 5)).astype(np.float32)
    for cls in (layers.SimpleRNN, layers.LSTM, layers.GRU):
        layer = cls(4, dropout=0.5, recurrent_dropout=0.5, seed=1)
        plain = cls(4)
        inference = layer(x)
        plain(x)
        plain.set_weights(layer.get_weights())
        np.testing.assert_allclose(inference, plain(x), atol=1e-6)
        trained = layer(x, training=True)
        assert trained.shape == inference.shape and np.all(np.isfinite(trained))
        assert not np.allclose(trained, inference)
        xv = Input(shape=(6, 5))
        model = Model(xv, layers.Dense(1)(layer(xv)))
        model.compile(optimizer="sgd", loss="mse")
        before = layer.get_weights()
        loss = model.train_on_batch(x, np.ones((4, 1), np.float32))
        assert np.isfinite(np.asarray(loss)).all()
        assert all(not np.array_equal(a, b) for a, b in zip(before, layer.get_weights()))


def test_dropout_masks_are_fixed_over_time():
    # Input dropout zeroes the same features at every step (one mask per call, as Keras):
    # a SimpleRNN with identity kernel, zero recurrence and linear activation shows it.
    def identity(shape, dtype=None):
        return np.eye(*shape, dtype=dtype)

    layer = layers.SimpleRNN(6, activation=None, dropout=0.5, return_sequences=True, seed=3,
                             kernel_initializer=identity, recurrent_initializer="zeros")
    x = np.ones((5, 7, 6), np.float32)
    out = layer(x, training=True)
    dropped = out == 0
    assert dropped.any() and not dropped.all()
    assert (dropped == dropped[:, :1]).all()
    np.testing.assert_allclose(out[~dropped], 2.0)


def test_loop_structure_one_projection_outside_one_product_inside():
    x = T.TensorType("float32", (None, 10, 8))("x")
    for cls, n_inner_dots in ((layers.LSTM, 1), (layers.GRU, 1), (layers.SimpleRNN, 1)):
        layer = cls(6)
        out = layer(x)
        f = function([x], out)
        nodes = f.maker.fgraph.toposort()
        scans = [n for n in nodes if isinstance(n.op, Scan)]
        assert len(scans) == 1
        inner = scans[0].op.fgraph.toposort()
        assert sum(type(n.op).__name__ == "Dot" for n in inner) == n_inner_dots
        outer_dots = [n for n in nodes if type(n.op).__name__ in ("Dot", "BatchedDot")]
        assert len(outer_dots) == 1  # x @ kernel for all steps at once
        # [kernel.T, bias] @ [x_t.T; 1] for every t, in the loop's layout
        assert layer.kernel in graph_inputs([outer_dots[0].inputs[0]])
        assert layer.bias in graph_inputs([outer_dots[0].inputs[0]])
        assert outer_dots[0].outputs[0] in graph_inputs([scans[0].inputs[1]],
                                                        stop=[outer_dots[0].outputs[0]])
        data = RNG.normal(size=(2, 10, 8)).astype(np.float32)
        f(data)
        f(data[:1])
        programs = scans[0].op._programs
        assert len(programs) == 1  # the step is compiled once, not per step or per call
        program = next(iter(programs.values()))
        f(data)
        assert next(iter(scans[0].op._programs.values())) is program


def test_lstm_training_step_gate_math_is_one_loop_each_way():
    """The projection broadcasts the kernel (no copy per step); with a gradient, the forward
    step's gate arithmetic (and the gate values it stores) and the backward step's gate
    gradients are one fused elementwise loop each."""
    from core.scan import ScanGrad

    x = T.TensorType("float32", (None, 10, 8))("x")
    layer = layers.LSTM(6, return_sequences=True)
    cost = T.sum(layer(x))
    f = function([x], [cost] + T.grad(cost, layer.trainable_weights))
    nodes = f.maker.fgraph.toposort()
    proj = [n for n in nodes if type(n.op).__name__ == "BatchedDot" and n.inputs[0].ndim == 3
            and n.inputs[0].type.shape[0] == 1]
    assert proj and not any(type(n.op).__name__ == "Alloc" and n.outputs[0].ndim == 3
                            and n.outputs[0] is proj[0].inputs[0] for n in nodes)
    f(RNG.normal(size=(2, 10, 8)).astype(np.float32))
    for cls in (Scan, ScanGrad):
        loop = [n for n in nodes if isinstance(n.op, cls)]
        assert len(loop) == 1
        program = next(iter(loop[0].op._programs.values()))
        elemwise = [n for n in program.nodes if type(n.op).__name__ == "Elemwise"]
        assert len(elemwise) == 1, [str(n.op) for n in elemwise]


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="units"):
        layers.LSTM(0)
    with pytest.raises(ValueError, match=r"\(batch, timesteps, features\)"):
        layers.GRU(3)(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="stateful"):
        layers.SimpleRNN(3, stateful=True)(Input(shape=(4, 2)))
    layer = layers.LSTM(3)
    with pytest.raises(ValueError, match="initial_state needs 2"):
        layer(np.zeros((2, 4, 3), np.float32), initial_state=[np.zeros((2, 3), np.float32)])
    with pytest.raises(ValueError, match="constraints"):
        layers.GRU(3, kernel_constraint="non_neg")


def test_config_round_trip():
    for layer in (layers.LSTM(4, return_sequences=True, dropout=0.2, unit_forget_bias=False),
                  layers.GRU(4, reset_after=False, go_backwards=True, activation="relu"),
                  layers.SimpleRNN(4, return_state=True, use_bias=False)):
        config = layer.get_config()
        clone = type(layer).from_config(config)
        assert clone.get_config() == config


def test_functional_model_with_initial_state_inputs():
    x_in, h_in, c_in = Input(shape=(5, 3)), Input(shape=(4,)), Input(shape=(4,))
    lstm = layers.LSTM(4, return_state=True)
    out, h, c = lstm(x_in, initial_state=[h_in, c_in])
    model = Model([x_in, h_in, c_in], [out, c])
    x = RNG.normal(size=(2, 5, 3)).astype(np.float32)
    h0, c0 = RNG.normal(size=(2, 4)).astype(np.float32), RNG.normal(size=(2, 4)).astype(
        np.float32)
    got_out, got_c = model.predict([x, h0, c0], verbose=0)
    weights = [w.astype(np.float64) for w in lstm.get_weights()]
    _, last, states = run_rnn(lstm_step, x, weights, [h0, c0])
    np.testing.assert_allclose(got_out, last, atol=2e-5)
    np.testing.assert_allclose(got_c, states[1], atol=2e-5)
