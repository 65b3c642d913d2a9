"""conv2d: forward against a direct loop reference, static shapes, gradients, errors."""
import numpy as np
import pytest

import core.tensor as T
from core import function
from core.gradient import verify_grad
from core.tensor.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights

from conv_pool_cases import CONV_CONFIGS

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Each test draws the same data however the tests are selected or ordered."""
    global RNG
    RNG = np.random.default_rng(0)


def ref_conv2d(x, w, border_mode="valid", subsample=(1, 1), filter_flip=True,
               filter_dilation=(1, 1)):
    """Direct (loop) convolution, Theano's semantics."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    dh, dw = filter_dilation
    sh, sw = subsample
    ekh, ekw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    pads = {"valid": (0, 0), "full": (ekh - 1, ekw - 1), "half": (ekh // 2, ekw // 2)}
    if isinstance(border_mode, int):
        border_mode = (border_mode, border_mode)
    ph, pw = pads[border_mode] if isinstance(border_mode, str) else border_mode
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    if filter_flip:
        w = w[:, :, ::-1, ::-1]
    ho = (h + 2 * ph - ekh) // sh + 1
    wo = (wd + 2 * pw - ekw) // sw + 1
    out = np.zeros((n, f, ho, wo), dtype=np.result_type(x, w))
    for b in range(n):
        for o in range(f):
            for i in range(ho):
                for j in range(wo):
                    patch = xp[b, :, i * sh:i * sh + ekh:dh, j * sw:j * sw + ekw:dw]
                    out[b, o, i, j] = np.sum(patch * w[o])
    return out


CONFIGS = CONV_CONFIGS


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cfg", CONFIGS)
def test_forward_matches_reference(cfg, dtype):
    xv = RNG.normal(size=(2, 3, 7, 8)).astype(dtype)
    wv = RNG.normal(size=(4, 3, 3, 2)).astype(dtype)
    x, w = T.tensor4("x", dtype=dtype), T.tensor4("w", dtype=dtype)
    out = T.nnet.conv2d(x, w, **cfg)
    got = function([x, w], out)(xv, wv)
    exp = ref_conv2d(xv.astype("float64"), wv.astype("float64"), **cfg)
    assert got.dtype == dtype and got.shape == exp.shape
    np.testing.assert_allclose(got, exp, rtol=1e-4 if dtype == "float32" else 1e-10, atol=1e-4)
    static = T.nnet.conv2d(T.tensor(dtype, xv.shape), T.tensor(dtype, wv.shape), **cfg)
    assert static.type.shape == exp.shape


def test_filter_flip_is_true_convolution():
    """Against numpy's own 1-d convolution and correlation, on single-row images."""
    xv, wv = RNG.normal(size=(1, 1, 1, 9)), RNG.normal(size=(1, 1, 1, 4))
    x, w = T.dtensor4("x"), T.dtensor4("w")
    full = function([x, w], T.nnet.conv2d(x, w, border_mode="full"))(xv, wv)
    np.testing.assert_allclose(full[0, 0, 0], np.convolve(xv[0, 0, 0], wv[0, 0, 0], "full"))
    corr = function([x, w], T.nnet.conv2d(x, w, filter_flip=False))(xv, wv)
    np.testing.assert_allclose(corr[0, 0, 0], np.correlate(xv[0, 0, 0], wv[0, 0, 0], "valid"))
    xt, wt = np.swapaxes(xv, 2, 3), np.swapaxes(wv, 2, 3)  # and along the rows
    col = function([x, w], T.nnet.conv2d(x, w, border_mode="full"))(xt, wt)
    np.testing.assert_allclose(col[0, 0, :, 0], np.convolve(xv[0, 0, 0], wv[0, 0, 0], "full"))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cfg", CONFIGS)
def test_gradients(cfg, dtype):
    xv = RNG.normal(size=(2, 2, 6, 5))
    wv = RNG.normal(size=(3, 2, 3, 2))
    verify_grad(lambda x, w: T.nnet.conv2d(x, w, **cfg), [xv, wv], dtype=dtype)


def test_gradients_are_their_own_ops():
    x, w = T.dtensor4("x"), T.dtensor4("w")
    gx, gw = T.grad(T.nnet.conv2d(x, w, border_mode="half").sum(), [x, w])
    assert isinstance(gx.owner.op, Conv2dGradInputs)
    assert isinstance(gw.owner.op, Conv2dGradWeights)
    assert gx.owner.op.border_mode == "half"


def test_second_order_gradients():
    xv, wv = RNG.normal(size=(1, 2, 5, 5)), RNG.normal(size=(2, 2, 2, 3))
    cfg = dict(border_mode=(1, 0), subsample=(2, 1))

    def grad_wrt(which):
        def fn(x, w):
            cost = (T.nnet.conv2d(x, w, **cfg) ** 2).sum()
            return T.grad(cost, [x, w][which])
        return fn

    verify_grad(grad_wrt(0), [xv, wv])
    verify_grad(grad_wrt(1), [xv, wv])


def test_errors():
    x, w = T.dtensor4("x"), T.dtensor4("w")
    with pytest.raises(TypeError, match="4-d"):
        T.nnet.conv2d(T.dmatrix(), w)
    with pytest.raises(ValueError, match="channels"):
        T.nnet.conv2d(T.tensor("float64", (None, 3, None, None)), T.tensor("float64", (2, 4, 3, 3)))
    with pytest.raises(ValueError, match="border_mode"):
        T.nnet.conv2d(x, w, border_mode="same")
    with pytest.raises(ValueError, match="smaller"):
        T.nnet.conv2d(T.tensor("float64", (1, 1, 2, 2)), T.tensor("float64", (1, 1, 3, 3)))
    with pytest.raises(ValueError, match="input_shape"):
        T.nnet.conv2d(T.tensor("float64", (1, 1, 5, 5)), w, input_shape=(1, 1, 6, 5))
    f = function([x, w], T.nnet.conv2d(x, w))
    with pytest.raises(ValueError, match="test_conv.py"):
        f(np.zeros((1, 3, 5, 5)), np.zeros((2, 2, 3, 3)))
    with pytest.raises(ValueError, match="smaller"):
        f(np.zeros((1, 2, 2, 5)), np.zeros((2, 2, 3, 3)))
    assert isinstance(T.nnet.conv2d(x, w).owner.op, Conv2d)


def test_non_contiguous_inputs():
    x, w = T.dtensor4("x"), T.dtensor4("w")
    view = x[:, ::-1, ::-1, ::2].dimshuffle(0, 1, 3, 2)  # negative and transposed strides
    f = function([x, w], T.nnet.conv2d(view, w, border_mode="half"))
    xv, wv = RNG.normal(size=(2, 3, 8, 10)), RNG.normal(size=(4, 3, 3, 3))
    dense = np.ascontiguousarray(xv[:, ::-1, ::-1, ::2].transpose(0, 1, 3, 2))
    np.testing.assert_allclose(f(xv, wv), ref_conv2d(dense, wv, border_mode="half"))


def _nchw_functions(cfg, dtype, channels_last: bool):
    """conv2d and both gradients, the input and output gradient fed channels-last or not."""
    w = T.tensor4("w", dtype=dtype)
    if channels_last:  # (N, C, H, W) views of NHWC memory, as the Keras layers build
        xin, gin = T.tensor4("xl", dtype=dtype), T.tensor4("gl", dtype=dtype)
        x, gy = xin.dimshuffle(0, 3, 1, 2), gin.dimshuffle(0, 3, 1, 2)
    else:
        xin = x = T.tensor4("x", dtype=dtype)
        gin = gy = T.tensor4("g", dtype=dtype)
    out = T.nnet.conv2d(x, w, **cfg)
    gx, gw = T.grad(None, [xin, w], known_grads={out: gy})
    return function([xin, w, gin], [out, gx, gw])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cfg", CONFIGS)
def test_channels_last_memory_matches_channels_first(cfg, dtype):
    xv = RNG.normal(size=(2, 3, 7, 8)).astype(dtype)
    wv = RNG.normal(size=(4, 3, 3, 2)).astype(dtype)
    exp = ref_conv2d(xv.astype("float64"), wv.astype("float64"), **cfg)
    gv = RNG.normal(size=exp.shape).astype(dtype)
    first = _nchw_functions(cfg, dtype, False)(xv, wv, gv)
    last = _nchw_functions(cfg, dtype, True)(xv.transpose(0, 2, 3, 1).copy(), wv,
                                             gv.transpose(0, 2, 3, 1).copy())
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else dict(rtol=1e-10)
    np.testing.assert_allclose(first[0], exp, **tol)
    np.testing.assert_allclose(last[0], exp, **tol)
    # the output keeps the input's channels-last memory (no transposed copy downstream)
    assert last[0].transpose(0, 2, 3, 1).flags.c_contiguous
    np.testing.assert_allclose(last[1].transpose(0, 3, 1, 2), first[1], **tol)
    np.testing.assert_allclose(last[2], first[2], **tol)
    assert all(a.dtype == dtype for a in first + last)


@pytest.mark.parametrize("cfg", [dict(border_mode="half"), CONFIGS[4], CONFIGS[8]])
def test_gradients_channels_last(cfg):
    xv, wv = RNG.normal(size=(2, 5, 6, 3)), RNG.normal(size=(3, 2, 3, 4))  # NHWC, (kh, kw, in, out)
    verify_grad(lambda x, w: T.nnet.conv2d(x.dimshuffle(0, 3, 1, 2), w.dimshuffle(3, 2, 0, 1),
                                           **cfg), [xv, wv])


@pytest.mark.parametrize("channels", [(1, 4), (3, 2)])  # (in, out): col2im / transposed conv
@pytest.mark.parametrize("cfg", [dict(border_mode="half"), dict(border_mode=(3, 1)),
                                 dict(border_mode="full", filter_dilation=(2, 1)),
                                 dict(filter_flip=False, border_mode=(1, 0))])
def test_input_gradient_both_algorithms(cfg, channels):
    """Stride 1 computes the input gradient as a convolution of g when out <= in channels
    (and the complementary padding is not negative), else by col2im: both against verify_grad."""
    c, f = channels
    xv, wv = RNG.normal(size=(2, c, 5, 6)), RNG.normal(size=(f, c, 3, 2))
    verify_grad(lambda x: T.nnet.conv2d(x, T.constant(wv), **cfg), [xv])
    verify_grad(lambda x: T.nnet.conv2d(x.dimshuffle(0, 3, 1, 2), T.constant(wv), **cfg),
                [xv.transpose(0, 2, 3, 1).copy()])


@pytest.mark.parametrize("keep_bytes", [0, 1 << 22])
def test_scratch_buffers_kept_or_not(keep_bytes, monkeypatch):
    """im2col/col2im scratch matrices are kept between calls when small, else allocated per
    call: both give the same values call after call (padding zeros included)."""
    import backends.numpy.conv as kernels

    monkeypatch.setattr(kernels, "KEEP_BYTES", keep_bytes)
    cfg = dict(border_mode=(1, 2), filter_dilation=(2, 1))
    for channels_last in (False, True):
        f = _nchw_functions(cfg, "float64", channels_last)
        for _ in range(2):
            xv, wv = RNG.normal(size=(2, 3, 7, 8)), RNG.normal(size=(4, 3, 3, 2))
            exp = ref_conv2d(xv, wv, **cfg)
            gv = RNG.normal(size=exp.shape)
            if channels_last:
                out = f(xv.transpose(0, 2, 3, 1).copy(), wv, gv.transpose(0, 2, 3, 1).copy())[0]
            else:
                out = f(xv, wv, gv)[0]
            np.testing.assert_allclose(out, exp, rtol=1e-10)
