"""C grouped and depthwise conv2d kernels (forward with and without bias and ReLU, filter and
input gradients) against the numpy kernels: random shapes, channel multipliers, groups,
strides, padding, dilation, flips, layouts, float32 and float64, at 1 and 3 threads."""
from __future__ import annotations

import numpy as np
import pytest

from core.config import config
from core.tensor.grouped_conv import (GroupedConv2d, GroupedConv2dBiasAct,
                                      GroupedConv2dGradInputs, GroupedConv2dGradWeights)
from core.tensor.type import TensorType

from c_helpers import assert_same, c_and_numpy_kernels, needs_cc
from conv_pool_cases import CONV_CONFIGS

pytestmark = needs_cc

CONFIGS = CONV_CONFIGS + [dict(border_mode=(3, 0))]  # and padding wider than the kernel
# (groups, input channels per group, output channels per group): depthwise with channel
# multiplier 1 and 3, depthwise with a channel count off the vector length, general groups
# (the last three: output, input, both channel counts a multiple of the vector length)
GROUPINGS = [(5, 1, 1), (4, 1, 3), (19, 1, 2), (2, 3, 2), (3, 2, 1), (2, 3, 16), (2, 16, 3),
             (2, 16, 16)]


def _channels_last(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def _strided_channels_last(a):
    """Channel stride 2 and every other column of a larger array."""
    big = np.zeros((a.shape[0], a.shape[2], 2 * a.shape[3], 2 * a.shape[1]), a.dtype)
    big[:, :, ::2, ::2] = a.transpose(0, 2, 3, 1)
    return big[:, :, ::2, ::2].transpose(0, 3, 1, 2)


def _spatial_steps(a):
    """Channels contiguous, rows and columns taken with steps from a larger array."""
    big = np.zeros((a.shape[0], 2 * a.shape[2], 3 * a.shape[3], a.shape[1]), a.dtype)
    big[:, ::2, ::3] = a.transpose(0, 2, 3, 1)
    return big[:, ::2, ::3].transpose(0, 3, 1, 2)


LAYOUTS = (("channels-last", _channels_last), ("strided", _strided_channels_last),
           ("spatial steps", _spatial_steps), ("channels-first", np.ascontiguousarray))


def _kernels(cfg, dtype):
    t4 = TensorType(dtype, (None,) * 4)
    vec, bias = TensorType("int64", (2,)), TensorType(dtype, (None,))
    nodes = [GroupedConv2d(**cfg).make_node(t4("x"), t4("w")),
             GroupedConv2dGradWeights(**cfg).make_node(t4("x"), t4("g"), vec("k")),
             GroupedConv2dGradInputs(**cfg).make_node(t4("w"), t4("g"), vec("s")),
             GroupedConv2dBiasAct(activation="relu", **cfg).make_node(t4("x"), t4("w"), bias()),
             GroupedConv2dBiasAct(activation="linear", **cfg).make_node(t4("x"), t4("w"),
                                                                        bias())]
    got, want = c_and_numpy_kernels(nodes)
    assert all(k.fn.__module__ == "backends.c.grouped_conv" for k in got)
    return got, want


def _case(rng, groups, cg, fg, dtype, size=(6, 11)):
    n, h, wd = rng.integers(1, 4), rng.integers(*size), rng.integers(*size)
    kh, kw = rng.integers(1, 4), rng.integers(1, 4)
    x = rng.normal(size=(n, groups * cg, h, wd)).astype(dtype)
    w = rng.normal(size=(groups * fg, cg, kh, kw)).astype(dtype)
    return x, w, rng.normal(size=groups * fg).astype(dtype)


def _check_all(got, want, x, w, b, dtype, what: str) -> bool:
    """Every kernel of ``got`` against ``want`` on (x, w, b) in every layout; False when the
    input is smaller than the dilated filters."""
    cf, cw, ci, crelu, clin = got
    nf, nw, ni, nrelu, nlin = want
    try:
        y = nf(x, w)
    except ValueError:
        return False
    rng = np.random.default_rng(x.size)
    g = rng.normal(size=y.shape).astype(dtype)
    khw, hw = np.array(w.shape[2:]), np.array(x.shape[2:])
    gw_tol = 1e-4 if dtype == "float32" else None
    for name, lay in LAYOUTS:
        at = f"{what}, {name}, x {x.shape}, w {w.shape}"
        out = cf(lay(x), w)
        assert_same(out, y, dtype, f"forward {at}")
        if name != "channels-first" and min(out.shape) > 1:
            assert out.transpose(0, 2, 3, 1).flags.c_contiguous
        assert_same(crelu(lay(x), w, b), nrelu(x, w, b), dtype, f"bias + relu {at}")
        assert_same(clin(lay(x), w, b), nlin(x, w, b), dtype, f"bias {at}")
        assert_same(cw(lay(x), lay(g), khw), nw(x, g, khw), dtype, f"filter gradient {at}",
                    tol=gw_tol)
        assert_same(ci(w, lay(g), hw), ni(w, g, hw), dtype, f"input gradient {at}")
    return True


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cfg", CONFIGS)
def test_grouped_kernels_match_numpy(cfg, dtype):
    rng = np.random.default_rng(len(str(cfg)))
    for groups, cg, fg in GROUPINGS:
        got, want = _kernels(dict(cfg, num_groups=groups), dtype)
        for _ in range(2):
            x, w, b = _case(rng, groups, cg, fg, dtype)
            _check_all(got, want, x, w, b, dtype, f"{groups} groups of {cg} -> {fg}")


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("groups,cg,fg", [(32, 1, 1), (16, 1, 2), (4, 4, 4), (2, 16, 16)])
@pytest.mark.parametrize("cfg", [dict(border_mode="half"), dict(subsample=(2, 2), border_mode=1)])
def test_large_inputs_on_threads(cfg, groups, cg, fg, threads):
    """Inputs large enough for the worker pool; the filter gradient's chunks are summed in a
    fixed order: one thread count gives one result, bit for bit."""
    dtype = "float32"
    got, want = _kernels(dict(cfg, num_groups=groups), dtype)
    rng = np.random.default_rng(groups * cg + threads)
    x = _channels_last(rng.normal(size=(7, groups * cg, 18, 17)).astype(dtype))
    w = rng.normal(size=(groups * fg, cg, 3, 3)).astype(dtype)
    b = rng.normal(size=groups * fg).astype(dtype)
    with config.change_flags(threads=threads):
        assert _check_all(got, want, x, w, b, dtype, f"{threads} threads")
        y = want[0](x, w)
        g = _channels_last(rng.normal(size=y.shape).astype(dtype))
        first = got[1](x, g, np.array([3, 3])).copy()
        np.testing.assert_array_equal(got[1](x, g, np.array([3, 3])), first)


def test_fallbacks_and_errors():
    (cf, cw, ci, crelu, _), (nf, *_) = _kernels(dict(num_groups=2), "float32")
    x = _channels_last(np.ones((1, 4, 5, 5), "float32"))
    w = np.ones((4, 2, 3, 3), "float32")
    # float64 data in a float32 function, and a zero-size batch: the numpy kernel's answer
    assert_same(cf(x.astype("float64"), w), nf(x.astype("float64"), w), "float64")
    assert cf(x[:0], w).shape == (0, 4, 3, 3)
    with pytest.raises(ValueError, match="bias"):
        crelu(x, w, np.ones(3, "float32"))
    with pytest.raises(ValueError, match="gradient"):
        cw(x, _channels_last(np.ones((1, 4, 2, 2), "float32")), np.array([3, 3]))
    with pytest.raises(ValueError, match="gradient"):
        ci(w, _channels_last(np.ones((1, 4, 2, 2), "float32")), np.array([5, 5]))
    with pytest.raises(ValueError, match="smaller"):
        cf(_channels_last(np.ones((1, 4, 2, 2), "float32")), w)
    with pytest.raises(ValueError):  # 3 input channels do not split into 2 groups
        cf(_channels_last(np.ones((1, 3, 5, 5), "float32")), w)


def test_nan_propagates_through_relu():
    (_, _, _, crelu, _), (_, _, _, nrelu, _) = _kernels(dict(num_groups=4), "float32")
    x = _channels_last(np.random.default_rng(0).normal(size=(2, 4, 6, 6)).astype("float32"))
    x[0, 1, 2, 3] = np.nan
    w, b = np.ones((4, 1, 3, 3), "float32"), np.zeros(4, "float32")
    got = crelu(x, w, b)
    assert np.isnan(got).sum() == 9
    assert_same(got, nrelu(x, w, b), "float32")
