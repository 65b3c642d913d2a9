"""local_max_pool_relu_bias_grad: a conv's ReLU and bias gradient through max pooling as one
MaxPoolReluBiasGrad, with the unfused graph's values; left alone where the pool gradient
has other readers; the fused op's own gradient."""
from __future__ import annotations

import numpy as np
import pytest

import core.tensor as T
from core import function
from core.config import config
from core.gradient import verify_grad
from core.tensor.conv import ReluBiasGrad, conv2d_bias_act
from core.tensor.signal.pool import MaxPoolGrad, MaxPoolReluBiasGrad

from conv_pool_cases import POOL_CONFIGS

RULE = "local_max_pool_relu_bias_grad"


def _ops(f) -> list:
    return [type(n.op) for n in f.maker.fgraph.toposort()]


def _conv_relu_pool(cfg):
    """A Keras-like block on channels-last input: relu(conv + b), then max pooling."""
    x, w, b = T.tensor4("x"), T.tensor4("w"), T.vector("b")
    out = conv2d_bias_act(x.dimshuffle(0, 3, 1, 2), w, b, "relu", border_mode="half")
    pooled = T.signal.pool_2d(out, **cfg).dimshuffle(0, 2, 3, 1)
    cost = (pooled * T.cos(pooled)).sum()  # a gradient that is not just ones
    return [x, w, b], T.grad(cost, [x, w, b])


@pytest.mark.parametrize("cfg", POOL_CONFIGS)
def test_fused_with_the_unfused_values(cfg):
    inputs, grads = _conv_relu_pool(cfg)
    fused = function(inputs, grads)
    plain = function(inputs, grads, excluding=[RULE])
    assert MaxPoolReluBiasGrad in _ops(fused)
    assert MaxPoolGrad not in _ops(fused) and ReluBiasGrad not in _ops(fused)
    assert MaxPoolGrad in _ops(plain) and MaxPoolReluBiasGrad not in _ops(plain)
    rng = np.random.default_rng(len(str(cfg)))
    xv = rng.normal(size=(2, 7, 8, 3))
    wv, bv = rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    for got, want in zip(fused(xv, wv, bv), plain(xv, wv, bv)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_left_alone_when_the_pool_gradient_is_read_elsewhere():
    x, gz = T.tensor4("x"), T.tensor4("gz")
    relu = T.maximum(x, 0)
    pooled = T.signal.pool_2d(relu, (2, 2))
    g = MaxPoolGrad((2, 2))(relu, pooled, gz)
    pre, bias = ReluBiasGrad()(relu.dimshuffle(0, 2, 3, 1), g.dimshuffle(0, 2, 3, 1))
    assert MaxPoolReluBiasGrad in _ops(function([x, gz], [pre, bias]))
    assert MaxPoolReluBiasGrad not in _ops(function([x, gz], [pre, bias, g]))


def test_keras_cnn_train_function_fuses_and_trains_as_unfused():
    from layers_on_graph import Input, Sequential, layers

    def train(excluding: str):
        rng = np.random.default_rng(0)
        with config.change_flags(optimizer_excluding=excluding):
            model = Sequential([Input(shape=(8, 8, 2)),
                                layers.Conv2D(4, 3, padding="same", activation="relu"),
                                layers.MaxPooling2D(2), layers.Conv2D(3, 3, activation="relu"),
                                layers.MaxPooling2D(2), layers.Flatten(),
                                layers.Dense(3, activation="softmax")])
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
            x, y = rng.normal(size=(6, 8, 8, 2)).astype("float32"), rng.integers(0, 3, 6)
            # (the same initial weights: Keras draws them from the global seed)
            model.set_weights([np.asarray(rng.normal(size=w.shape), "float32") * 0.3
                               for w in model.get_weights()])
            losses = [float(model.train_on_batch(x, y)) for _ in range(3)]
        return model, losses

    fused, fused_losses = train("")
    plain, plain_losses = train(RULE)
    assert _ops(fused._train_fn).count(MaxPoolReluBiasGrad) == 2
    assert MaxPoolReluBiasGrad not in _ops(plain._train_fn)
    np.testing.assert_allclose(fused_losses, plain_losses, rtol=1e-5)
    for a, b in zip(fused.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_gradient_of_the_fused_op():
    """Linear in ``gz``: its gradient (MaxPoolGradGrad of the masked sum) against finite
    differences, ties and zeros in ``x`` included."""
    rng = np.random.default_rng(3)
    xv = np.maximum(rng.normal(size=(2, 3, 6, 5)), 0)
    xv[0, 0, :2, :2] = 0.7
    for cfg in (POOL_CONFIGS[0], POOL_CONFIGS[4]):
        mv = function([xt := T.dtensor4()], T.signal.pool_2d(xt, **cfg))(xv)
        cv = rng.normal(size=3)

        def fn(gz, cfg=cfg, mv=mv, cv=cv):
            pre, bias = MaxPoolReluBiasGrad(**cfg)(T.constant(xv), T.constant(mv), gz)
            return (pre * T.cos(T.constant(xv))).sum() + (bias * T.constant(cv)).sum()

        verify_grad(fn, [rng.normal(size=mv.shape)])


def test_debug_mode_runs_the_fused_graph():
    """DebugMode runs every node through the C and the numpy kernels (channels-last
    operands, as a conv layer gives them) and checks what they overwrite and alias."""
    from backends.c import compiler

    if compiler.compiler() is None:
        pytest.skip("no C compiler")
    inputs, grads = _conv_relu_pool(POOL_CONFIGS[0])
    f = function(inputs, grads, mode="DebugMode")
    assert MaxPoolReluBiasGrad in _ops(f)
    rng = np.random.default_rng(4)
    values = (rng.normal(size=(2, 8, 8, 3)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4))
    plain = function(inputs, grads, excluding=[RULE])
    for got, want in zip(f(*values), plain(*values)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
