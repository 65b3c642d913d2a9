"""grouped_conv2d (depthwise included): forward against a loop reference, gradients, errors."""
import numpy as np
import pytest

import core.tensor as T
from core import function
from core.gradient import verify_grad
from core.tensor.grouped_conv import (GroupedConv2dBiasAct, grouped_conv2d,
                                      grouped_conv2d_bias_act)

RNG = np.random.default_rng(0)


def ref_grouped(x, w, border_mode, subsample, filter_flip, dilation, groups):
    """Direct loops: output channel f reads the input channels of its group."""
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    (dh, dw), (sh, sw) = dilation, subsample
    ekh, ekw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    ph, pw = {"valid": (0, 0), "half": (ekh // 2, ekw // 2),
              "full": (ekh - 1, ekw - 1)}.get(border_mode, border_mode)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    if filter_flip:
        w = w[:, :, ::-1, ::-1]
    ho, wo = (h + 2 * ph - ekh) // sh + 1, (wd + 2 * pw - ekw) // sw + 1
    out = np.zeros((n, f, ho, wo))
    per_out = f // groups
    for o in range(f):
        g = o // per_out
        for i in range(ho):
            for j in range(wo):
                patch = xp[:, g * cg:(g + 1) * cg, i * sh:i * sh + ekh:dh, j * sw:j * sw + ekw:dw]
                out[:, o, i, j] = np.sum(patch * w[o], axis=(1, 2, 3))
    return out


CASES = [  # channels, out channels, groups, kernel, border, stride, flip, dilation
    (4, 4, 4, (3, 3), "valid", (1, 1), False, (1, 1)),
    (3, 6, 3, (3, 3), "half", (2, 2), False, (1, 1)),
    (4, 6, 2, (2, 3), (1, 0), (1, 2), True, (1, 1)),
    (2, 4, 2, (3, 3), "full", (1, 1), True, (2, 1)),
    (6, 6, 1, (1, 1), "valid", (1, 1), False, (1, 1)),
]


@pytest.mark.parametrize("c,f,groups,k,border,stride,flip,dil", CASES)
def test_forward_matches_loops(c, f, groups, k, border, stride, flip, dil):
    x = RNG.normal(size=(2, c, 7, 6))
    w = RNG.normal(size=(f, c // groups) + k)
    xs, ws = T.dtensor4("x"), T.dtensor4("w")
    out = grouped_conv2d(xs, ws, border, stride, flip, dil, groups)
    got = function([xs, ws], out)(x, w)
    want = ref_grouped(x, w, border, stride, flip, dil, groups)
    np.testing.assert_allclose(got, want, atol=1e-10)
    # channels-last memory (what the Keras layers feed) gives the same values
    x_last = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(function([xs, ws], out)(x_last, w), want, atol=1e-10)


@pytest.mark.parametrize("c,f,groups,k,border,stride,flip,dil", CASES[:4])
def test_gradients_match_finite_differences(c, f, groups, k, border, stride, flip, dil):
    x = RNG.normal(size=(2, c, 6, 5))
    w = RNG.normal(size=(f, c // groups) + k)
    verify_grad(lambda a, b: grouped_conv2d(a, b, border, stride, flip, dil, groups), [x, w])


def test_second_order_gradients():
    """The gradient ops are differentiable too (e.g. a gradient penalty)."""
    x, w = RNG.normal(size=(1, 4, 5, 5)), RNG.normal(size=(4, 1, 3, 3))

    def g_of_x(a, b):
        cost = T.sum(T.sqr(grouped_conv2d(a, b, "half", num_groups=4)))
        return T.grad(cost, a)

    verify_grad(g_of_x, [x, w])


def test_static_shapes_and_errors():
    x = T.TensorType("float32", (None, 4, 8, 8))("x")
    w = T.TensorType("float32", (8, 1, 3, 3))("w")
    assert grouped_conv2d(x, w, subsample=(2, 2), num_groups=4).type.shape == (None, 8, 3, 3)
    with pytest.raises(ValueError, match="groups"):
        grouped_conv2d(x, w, num_groups=3)
    with pytest.raises(ValueError, match="smaller than"):
        grouped_conv2d(T.TensorType("float32", (None, 4, 2, 2))("x"), w, num_groups=4)
    with pytest.raises(ValueError, match="num_groups"):
        grouped_conv2d(x, w, num_groups=0)


@pytest.mark.parametrize("activation", ["linear", "relu"])
@pytest.mark.parametrize("c,f,groups,k,border,stride,flip,dil", CASES[:4])
def test_bias_act_matches_separate_ops_and_finite_differences(c, f, groups, k, border, stride,
                                                              flip, dil, activation):
    """``grouped_conv2d_bias_act``: the grouped convolution, the bias on the channel axis and
    maximum(., 0) for 'relu'; its gradient (ReluBiasGrad, the grouped gradient ops) against
    finite differences."""
    x = RNG.normal(size=(2, c, 6, 5))
    w, b = RNG.normal(size=(f, c // groups) + k), RNG.normal(size=f)
    xs, ws, bs = T.dtensor4("x"), T.dtensor4("w"), T.dvector("b")
    fused = grouped_conv2d_bias_act(xs, ws, bs, activation, border, stride, flip, dil, groups)
    assert isinstance(fused.owner.op, GroupedConv2dBiasAct)
    plain = (grouped_conv2d(xs, ws, border, stride, flip, dil, groups)
             + bs.dimshuffle("x", 0, "x", "x"))
    if activation == "relu":
        plain = T.maximum(plain, 0)
    got, want = function([xs, ws, bs], [fused, plain])(x, w, b)
    np.testing.assert_allclose(got, want, atol=1e-12)
    verify_grad(lambda a, v, u: grouped_conv2d_bias_act(a, v, u, activation, border, stride,
                                                        flip, dil, groups), [x, w, b])


def test_bias_act_errors():
    x, w = T.TensorType("float32", (None, 4, 8, 8))("x"), T.TensorType("float32", (8, 1, 3, 3))("w")
    with pytest.raises(ValueError, match="bias"):
        grouped_conv2d_bias_act(x, w, T.fvector("b")[:3].reshape((1, 3)), num_groups=4)
    with pytest.raises(ValueError, match="activation"):
        grouped_conv2d_bias_act(x, w, T.fvector("b"), "tanh", num_groups=4)
    with pytest.raises(ValueError, match="num_groups"):
        grouped_conv2d_bias_act(x, w, T.fvector("b"), num_groups=0)
