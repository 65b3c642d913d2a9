"""conv2d_bias_act: activation(conv2d + bias) as one op, against the separate ops; its
gradients against finite differences; errors."""
import numpy as np
import pytest

import core.tensor as T
from core import function
from core.gradient import verify_grad
from core.tensor.conv import Conv2dBiasAct, ReluBiasGrad, conv2d_bias_act

from conv_pool_cases import CONV_CONFIGS


def _separate(x, w, b, activation, cfg):
    out = T.nnet.conv2d(x, w, **cfg) + b.dimshuffle("x", 0, "x", "x")
    return T.maximum(out, 0) if activation == "relu" else out


@pytest.mark.parametrize("activation", Conv2dBiasAct.ACTIVATIONS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cfg", CONV_CONFIGS)
def test_matches_separate_ops_and_their_gradients(cfg, dtype, activation):
    rng = np.random.default_rng(len(str(cfg)))
    # channels-last memory, as the Keras layers feed it
    xv = np.ascontiguousarray(rng.normal(size=(2, 7, 8, 3)).astype(dtype)).transpose(0, 3, 1, 2)
    wv, bv = rng.normal(size=(4, 3, 3, 2)).astype(dtype), rng.normal(size=4).astype(dtype)
    x, w, b = T.tensor4("x", dtype=dtype), T.tensor4("w", dtype=dtype), T.vector("b", dtype=dtype)
    got, want = (fn(x, w, b) for fn in (
        lambda x, w, b: conv2d_bias_act(x, w, b, activation, **cfg),
        lambda x, w, b: _separate(x, w, b, activation, cfg)))
    assert isinstance(got.owner.op, Conv2dBiasAct)
    cost = [(v * T.cos(v)).sum() for v in (got, want)]  # a gradient that is not just ones
    f = function([x, w, b], [got, *T.grad(cost[0], [x, w, b])])
    g = function([x, w, b], [want, *T.grad(cost[1], [x, w, b])])
    tol = 1e-5 if dtype == "float32" else 1e-12
    for a, e in zip(f(xv, wv, bv), g(xv, wv, bv)):
        assert a.dtype == e.dtype
        np.testing.assert_allclose(a, e, rtol=tol, atol=tol)


@pytest.mark.parametrize("activation", Conv2dBiasAct.ACTIVATIONS)
def test_gradients_by_finite_differences(activation):
    rng = np.random.default_rng(3)
    xv, wv = rng.normal(size=(2, 2, 6, 5)), rng.normal(size=(3, 2, 3, 2))
    bv = rng.normal(size=3)
    verify_grad(lambda x, w, b: conv2d_bias_act(x, w, b, activation, border_mode=(1, 0),
                                                subsample=(2, 1)), [xv, wv, bv])


def test_relu_keeps_nan_and_masks_it_in_the_gradient():
    x, w, b = T.dtensor4("x"), T.dtensor4("w"), T.dvector("b")
    out = conv2d_bias_act(x, w, b, "relu")
    f = function([x, w, b], [out, T.grad(out.sum(), b)])
    xv = np.ones((1, 1, 2, 2))
    xv[0, 0, 0, 0] = np.nan
    y, gb = f(xv, np.ones((2, 1, 1, 1)), np.array([1.0, -5.0]))
    np.testing.assert_array_equal(y[0, :, 0, 0], [np.nan, np.nan])
    np.testing.assert_array_equal(y[0, :, 1, 1], [2.0, 0.0])
    np.testing.assert_array_equal(gb, [3.0, 0.0])  # NaN > 0 is false: masked, as maximum's


def test_errors():
    x, w = T.dtensor4("x"), T.dtensor4("w")
    with pytest.raises(ValueError, match="activation"):
        Conv2dBiasAct(activation="tanh")
    with pytest.raises(ValueError, match="bias"):
        conv2d_bias_act(x, w, T.dmatrix("b"))
    b = T.dvector("b")
    f = function([x, w, b], conv2d_bias_act(x, w, b))
    with pytest.raises(ValueError, match="bias"):
        f(np.ones((1, 1, 3, 3)), np.ones((2, 1, 2, 2)), np.ones(3))


def test_relu_bias_grad_is_the_mask_and_its_sum():
    rng = np.random.default_rng(4)
    out, g = T.dtensor4("out"), T.dtensor4("g")
    pre, bias = ReluBiasGrad()(out, g)
    f = function([out, g], [pre, bias])
    ov, gv = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, 3, 4, 5))
    ov[0, 0, 0, 0], gv[0, 0, 0, 1], ov[0, 0, 0, 1] = np.nan, np.inf, -1.0
    with np.errstate(invalid="ignore"):
        got_pre, got_bias = f(ov, gv)
        want = gv * (ov > 0)  # NaN output: masked; an inf gradient under the mask: NaN
    np.testing.assert_array_equal(got_pre, want)
    np.testing.assert_allclose(got_bias, want.reshape(-1, 5).sum(axis=0))
    with pytest.raises(TypeError, match="ReluBiasGrad"):
        ReluBiasGrad()(out, T.fmatrix("g"))


def test_relu_bias_grad_gradient_by_finite_differences():
    rng = np.random.default_rng(5)
    out = rng.normal(size=(3, 4))
    out[np.abs(out) < 0.1] = 0.5  # away from the kink

    def cost(g):
        pre, bias = ReluBiasGrad()(T.constant(out), g)
        return (pre * T.cos(pre)).sum() + (bias ** 2).sum()

    verify_grad(cost, [rng.normal(size=(3, 4))])
