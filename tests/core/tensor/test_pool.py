"""pool_2d: forward against a loop reference (Theano's semantics), shapes, gradients, errors."""
import numpy as np
import pytest

import core.tensor as T
from core import function
from core.gradient import verify_grad
from core.graph.utils import toposort
from core.tensor.signal.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad

from conv_pool_cases import POOL_CONFIGS

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Each test draws the same data however the tests are selected or ordered."""
    global RNG
    RNG = np.random.default_rng(0)


def ref_pool(x, ws, ignore_border=True, stride=None, pad=(0, 0), mode="max"):
    """Loop reference, following Theano's Pool.perform window rules."""
    stride = stride or ws
    h, w = x.shape[-2:]
    hp, wp = h + 2 * pad[0], w + 2 * pad[1]

    def out_len(n, k, s):
        if ignore_border:
            return max((n - k) // s + 1, 0)
        return (n - 1) // s + 1 if s >= k else max(0, (n - 1 - k + s) // s) + 1

    ho, wo = out_len(hp, ws[0], stride[0]), out_len(wp, ws[1], stride[1])
    y = np.zeros(x.shape[:-2] + (hp, wp), dtype=x.dtype)
    y[..., pad[0]:pad[0] + h, pad[1]:pad[1] + w] = x
    out = np.zeros(x.shape[:-2] + (ho, wo), dtype=x.dtype)
    for r in range(ho):
        for c in range(wo):
            r0, c0 = r * stride[0], c * stride[1]
            r1, c1 = min(r0 + ws[0], hp), min(c0 + ws[1], wp)
            if mode != "average_inc_pad":
                r0, c0 = max(r0, pad[0]), max(c0, pad[1])
                r1, c1 = min(r1, h + pad[0]), min(c1, w + pad[1])
            win = y[..., r0:r1, c0:c1]
            if mode == "max":
                out[..., r, c] = win.max(axis=(-2, -1))
            elif mode == "sum":
                out[..., r, c] = win.sum(axis=(-2, -1))
            else:
                out[..., r, c] = win.mean(axis=(-2, -1))
    return out


CONFIGS = POOL_CONFIGS
MODES = ["max", "sum", "average_inc_pad", "average_exc_pad"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cfg", CONFIGS)
def test_forward_matches_reference(cfg, mode, dtype):
    xv = RNG.normal(size=(2, 3, 7, 6)).astype(dtype)
    x = T.tensor4("x", dtype=dtype)
    got = function([x], T.signal.pool_2d(x, mode=mode, **cfg))(xv)
    exp = ref_pool(xv, mode=mode, **cfg)
    assert got.dtype == dtype and got.shape == exp.shape
    np.testing.assert_allclose(got, exp, rtol=1e-5, atol=1e-5 if dtype == "float32" else 0)
    assert T.signal.pool_2d(T.tensor(dtype, xv.shape), mode=mode, **cfg).type.shape == exp.shape


def test_other_ranks_and_int_max():
    v = RNG.integers(-50, 50, size=(5, 7)).astype("int32")
    m = T.imatrix("m")
    got = function([m], T.signal.pool_2d(m, (2, 3), ignore_border=False))(v)
    np.testing.assert_array_equal(got, ref_pool(v, (2, 3), ignore_border=False))
    t5 = T.tensor("float64", (None,) * 5)
    xv = RNG.normal(size=(2, 1, 2, 4, 4))
    np.testing.assert_allclose(function([t5], T.signal.pool_2d(t5, (2, 2), mode="sum"))(xv),
                               ref_pool(xv, (2, 2), mode="sum"))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cfg", CONFIGS)
def test_gradients(cfg, mode, dtype):
    # distinct values spaced apart so that max windows have no ties within finite-difference steps
    xv = RNG.permutation(2 * 7 * 6).reshape(1, 2, 7, 6) / 100.0
    verify_grad(lambda x: T.signal.pool_2d(x, mode=mode, **cfg), [xv], dtype=dtype)


def test_gradient_ops_and_second_order_average():
    x = T.dtensor4("x")
    g_max = T.grad(T.signal.pool_2d(x, (2, 2)).sum(), x)
    g_avg = T.grad(T.signal.pool_2d(x, (2, 2), mode="average_exc_pad").sum(), x)
    assert isinstance(g_max.owner.op, MaxPoolGrad)
    assert isinstance(g_avg.owner.op, AveragePoolGrad)
    xv = RNG.normal(size=(1, 1, 5, 5))

    def fn(x):
        cost = (T.signal.pool_2d(x, (2, 2), stride=(1, 2), pad=(1, 1), mode="average_inc_pad") ** 2).sum()
        return T.grad(cost, x)

    verify_grad(fn, [xv])


@pytest.mark.parametrize("cfg", [CONFIGS[1], CONFIGS[6]])
def test_second_order_max(cfg):
    xv = RNG.permutation(2 * 7 * 6).reshape(1, 2, 7, 6) / 100.0
    gv = RNG.normal(size=xv.shape)

    def fn(x, g):
        cost = (T.signal.pool_2d(x, **cfg) ** 2).sum()
        return T.grad(cost, x) * g  # depends on x through the max positions and pooled values

    verify_grad(fn, [xv, gv])
    x = T.dtensor4("x")
    gx = T.grad((T.signal.pool_2d(x, **cfg) ** 2).sum(), x)
    hx = T.grad((gx * gv).sum(), x)
    assert any(isinstance(n.op, MaxPoolGradGrad) for n in toposort([hx]))


def test_max_pool_gradient_goes_to_the_maximum():
    x = T.dmatrix("x")
    g = function([x], T.grad(T.signal.pool_2d(x, (2, 2)).sum(), x))
    got = g(np.array([[1.0, 5.0], [2.0, 3.0]]))
    np.testing.assert_array_equal(got, [[0, 1], [0, 0]])


def test_errors():
    x = T.dtensor4("x")
    with pytest.raises(ValueError, match="mode"):
        T.signal.pool_2d(x, (2, 2), mode="median")
    with pytest.raises(ValueError, match="ignore_border=True"):
        T.signal.pool_2d(x, (2, 2), ignore_border=False, pad=(1, 1))
    with pytest.raises(ValueError, match="smaller than ws"):
        T.signal.pool_2d(x, (2, 2), pad=(2, 0))
    with pytest.raises(TypeError, match="at least 2"):
        T.signal.pool_2d(T.dvector(), (2, 2))
    with pytest.raises(TypeError, match="float"):
        T.signal.pool_2d(T.imatrix(), (2, 2), mode="average_exc_pad")
    with pytest.raises(TypeError, match="ws"):
        T.signal.pool_2d(x)


def test_non_contiguous_input():
    x = T.dtensor4("x")
    f = function([x], T.signal.pool_2d(x[:, :, ::-1].dimshuffle(0, 1, 3, 2), (2, 3),
                                       ignore_border=False, mode="average_exc_pad"))
    xv = RNG.normal(size=(2, 3, 7, 5))
    dense = np.ascontiguousarray(xv[:, :, ::-1].transpose(0, 1, 3, 2))
    np.testing.assert_allclose(f(xv), ref_pool(dense, (2, 3), False, mode="average_exc_pad"))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cfg", CONFIGS)
def test_channels_last_memory(cfg, mode):
    """(N, C, H, W) views of NHWC memory (what the Keras layers feed): values, output layout
    and gradients."""
    xv = RNG.permutation(2 * 7 * 6 * 3).reshape(2, 7, 6, 3) / 100.0  # NHWC, no ties
    x = T.dtensor4("x")
    out = T.signal.pool_2d(x.dimshuffle(0, 3, 1, 2), mode=mode, **cfg)
    got = function([x], out)(xv)
    np.testing.assert_allclose(got, ref_pool(xv.transpose(0, 3, 1, 2), mode=mode, **cfg))
    assert got.transpose(0, 2, 3, 1).flags.c_contiguous
    verify_grad(lambda v: T.signal.pool_2d(v.dimshuffle(0, 3, 1, 2), mode=mode, **cfg), [xv])
