"""Optimizers: steps against hand-computed Keras 3 updates; clipping; learning-rate variable."""
import numpy as np
import pytest

import core.tensor as T
from core import function, shared
from layers_on_graph import Input, Sequential, layers, optimizers

W0 = np.array([1.0, -2.0, 0.5], dtype="float32")
GRADS = [np.array([0.1, -0.3, 2.0], dtype="float32"), np.array([-0.2, 0.4, 1.0], "float32")]


def run_steps(opt, n=2):
    w = shared(W0.copy(), name="w")
    g = T.fvector("g")
    step = function([g], [], updates=opt.get_updates([w], [g]))
    values = []
    for k in range(n):
        step(GRADS[k])
        values.append(w.get_value())
    assert int(opt.iterations.get_value()) == n
    return values


def test_sgd_plain_momentum_nesterov():
    got = run_steps(optimizers.SGD(learning_rate=0.1))
    np.testing.assert_allclose(got[1], W0 - 0.1 * GRADS[0] - 0.1 * GRADS[1], rtol=1e-6)
    for nesterov in (False, True):
        got = run_steps(optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=nesterov))
        w, m = W0.astype("float64"), np.zeros(3)
        for g in GRADS:
            m = 0.9 * m - 0.1 * g
            w = w + (0.9 * m - 0.1 * g if nesterov else m)
        np.testing.assert_allclose(got[1], w, rtol=1e-5)


def adam_reference(lr, b1, b2, eps, weight_decay=0.0, amsgrad=False):
    w, m, v, vhat = W0.astype("float64"), np.zeros(3), np.zeros(3), np.zeros(3)
    for t, g in enumerate(GRADS, start=1):
        w = w - w * weight_decay * lr
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        vhat = np.maximum(vhat, v)
        w = w - alpha * m / (np.sqrt(vhat if amsgrad else v) + eps)
    return w


def test_adam_and_amsgrad():
    np.testing.assert_allclose(run_steps(optimizers.Adam(learning_rate=0.01))[1],
                               adam_reference(0.01, 0.9, 0.999, 1e-7), rtol=1e-5)
    np.testing.assert_allclose(run_steps(optimizers.Adam(0.01, amsgrad=True))[1],
                               adam_reference(0.01, 0.9, 0.999, 1e-7, amsgrad=True), rtol=1e-5)


def test_adamw_decays_before_the_step():
    opt = optimizers.AdamW(learning_rate=0.01, weight_decay=0.1)
    np.testing.assert_allclose(run_steps(opt)[1],
                               adam_reference(0.01, 0.9, 0.999, 1e-7, weight_decay=0.1),
                               rtol=1e-5)
    assert optimizers.AdamW().weight_decay == 0.004


@pytest.mark.parametrize("centered,momentum", [(False, 0.0), (True, 0.0), (False, 0.5)])
def test_rmsprop(centered, momentum):
    got = run_steps(optimizers.RMSprop(learning_rate=0.01, centered=centered, momentum=momentum))
    w, v, ag, mom = W0.astype("float64"), np.zeros(3), np.zeros(3), np.zeros(3)
    for g in GRADS:
        v = 0.9 * v + 0.1 * g * g
        denom = v + 1e-7
        if centered:
            ag = 0.9 * ag + 0.1 * g
            denom = v - ag * ag + 1e-7
        inc = 0.01 * g / np.sqrt(denom)
        if momentum:
            mom = momentum * mom + inc
            inc = mom
        w = w - inc
    np.testing.assert_allclose(got[1], w, rtol=1e-5)


def test_adagrad():
    got = run_steps(optimizers.Adagrad(learning_rate=0.1))
    w, acc = W0.astype("float64"), np.full(3, 0.1)
    for g in GRADS:
        acc = acc + g * g
        w = w - 0.1 * g / np.sqrt(acc + 1e-7)
    np.testing.assert_allclose(got[1], w, rtol=1e-5)


def test_clipping():
    g = GRADS[0]
    got = run_steps(optimizers.SGD(1.0, clipvalue=0.25), 1)[0]
    np.testing.assert_allclose(got, W0 - np.clip(g, -0.25, 0.25), rtol=1e-6)
    got = run_steps(optimizers.SGD(1.0, clipnorm=1.0), 1)[0]
    np.testing.assert_allclose(got, W0 - g / np.linalg.norm(g), rtol=1e-5)
    got = run_steps(optimizers.SGD(1.0, global_clipnorm=1.0), 1)[0]
    np.testing.assert_allclose(got, W0 - g / np.linalg.norm(g), rtol=1e-5)
    got = run_steps(optimizers.SGD(1.0, clipnorm=100.0), 1)[0]
    np.testing.assert_allclose(got, W0 - g, rtol=1e-6)


def test_learning_rate_is_a_shared_variable():
    opt = optimizers.SGD(learning_rate=0.1)
    w = shared(W0.copy())
    g = T.fvector("g")
    step = function([g], [], updates=opt.get_updates([w], [g]))
    opt.learning_rate = 0.5  # no recompilation
    step(GRADS[0])
    np.testing.assert_allclose(w.get_value(), W0 - 0.5 * GRADS[0], rtol=1e-6)
    assert float(opt.learning_rate) == 0.5
    assert opt.learning_rate_variable.get_value().dtype == np.float32


def test_optimizer_names_and_errors():
    assert isinstance(optimizers.get("adam"), optimizers.Adam)
    assert isinstance(optimizers.get("RMSprop"), optimizers.RMSprop)
    with pytest.raises(ValueError, match="unknown optimizer"):
        optimizers.get("adamm")
    with pytest.raises(ValueError, match="clipnorm"):
        optimizers.SGD(clipnorm=-1)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=2)


def test_one_fit_step_matches_sgd_by_hand():
    model = Sequential([Input(shape=(2,)), layers.Dense(1, kernel_initializer="ones")])
    model.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    x = np.array([[1.0, 2.0], [3.0, -1.0]], "float32")
    y = np.array([[1.0], [0.0]], "float32")
    model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0)
    err = x @ np.ones((2, 1)) - y
    np.testing.assert_allclose(model.layers[0].kernel.get_value(),
                               np.ones((2, 1)) - 0.1 * x.T @ err, rtol=1e-6)
    np.testing.assert_allclose(model.layers[0].bias.get_value(), -0.1 * err.sum(0), rtol=1e-6)


def test_momentum_step_accumulates_the_gradient_product_in_place():
    # A slot shares its weight's static shape, so the momentum update may overwrite it and
    # the weight-gradient Gemm accumulates into the slot itself (no copy of it per step).
    from core.tensor.blas import Gemm

    model = Sequential([Input(shape=(6,)), layers.Dense(4, activation="relu"), layers.Dense(3)])
    opt = optimizers.SGD(0.1, momentum=0.9)
    model.compile(optimizer=opt, loss="mse")
    x = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
    y = np.zeros((5, 3), "float32")
    model.train_on_batch(x, y)
    kernel = model.layers[0].kernel
    (slot,) = [v for v in opt.variables if v.name.endswith(f"{kernel.name.replace('/', '_')}_"
                                                           "momentum")]
    assert slot.type.shape == kernel.type.shape == (6, 4)
    gemms = [n for n in model._train_fn.maker.fgraph.toposort() if isinstance(n.op, Gemm)]
    assert len(gemms) == 2 and all(n.op.inplace for n in gemms)
