"""The inplace pass lets ReluBiasGrad (a conv layer's ReLU mask and bias gradient) write
into its gradient input when that is a private fresh buffer (a convolution's input
gradient, seen through the channels-last dimshuffle), and never otherwise."""
from __future__ import annotations

import numpy as np
import pytest

import core.tensor as T
from core import function
from core.tensor.conv import ReluBiasGrad, conv2d_bias_act


def _rbg_ops(f) -> list:
    return [n.op for n in f.maker.fgraph.toposort() if isinstance(n.op, ReluBiasGrad)]


def _two_convs():
    """relu(conv(x) + b1) -> conv: the first layer's mask reads the second's input
    gradient, which nothing else reads."""
    x, w1, b1, w2 = T.tensor4("x"), T.tensor4("w1"), T.vector("b1"), T.tensor4("w2")
    h = conv2d_bias_act(x.dimshuffle(0, 3, 1, 2), w1, b1, "relu", border_mode="half")
    out = T.nnet.conv2d(h, w2)
    cost = (out * T.cos(out)).sum()
    return [x, w1, b1, w2], T.grad(cost, [x, w1, b1, w2]), h


def _values(rng):
    return (rng.normal(size=(2, 6, 7, 3)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4),
            rng.normal(size=(2, 4, 3, 3)))


@pytest.mark.parametrize("mode", ["FAST_RUN", "DebugMode"])
def test_writes_into_a_private_conv_input_gradient(mode):
    """DebugMode also runs the C kernel and checks what it overwrites and the order."""
    if mode == "DebugMode":
        from backends.c import compiler

        if compiler.compiler() is None:
            pytest.skip("no C compiler")
    inputs, grads, _ = _two_convs()
    f = function(inputs, grads, mode=mode)
    plain = function(inputs, grads, excluding=["inplace"])
    assert [op.inplace for op in _rbg_ops(f)] == [True]
    assert [op.inplace for op in _rbg_ops(plain)] == [False]
    values = _values(np.random.default_rng(0))
    for got, want in zip(f(*values), plain(*values)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_only_when_nothing_else_reads_the_gradient():
    from core.tensor.conv import Conv2dGradInputs

    out, w, top = T.tensor4("out"), T.tensor4("w"), T.tensor4("top")
    g = Conv2dGradInputs(border_mode="half")(w, top, [5, 6])
    pre, bias = ReluBiasGrad()(out.dimshuffle(0, 2, 3, 1), g.dimshuffle(0, 2, 3, 1))
    rng = np.random.default_rng(2)
    values = (rng.normal(size=(2, 3, 5, 6)), rng.normal(size=(4, 3, 3, 3)),
              rng.normal(size=(2, 4, 5, 6)))
    want = None
    for extra, inplace in (([], True), ([g], False), ([g.sum()], False)):
        f = function([out, w, top], [pre, bias] + extra)
        assert [op.inplace for op in _rbg_ops(f)] == [inplace], extra
        got = f(*values)
        want = want or [np.array(v) for v in got[:2]]
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        if extra == [g]:  # the returned gradient is not the masked one
            assert (got[2] != got[0].transpose(0, 3, 1, 2)).any()


def test_not_on_a_function_input():
    out, g = T.tensor4("out"), T.tensor4("g")
    pre, bias = ReluBiasGrad()(out, g)
    f = function([out, g], [pre * 2, bias])
    assert [op.inplace for op in _rbg_ops(f)] == [False]
    rng = np.random.default_rng(1)
    ov, gv = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, 3, 4, 5))
    keep = gv.copy()
    f(ov, gv)
    np.testing.assert_array_equal(gv, keep)
