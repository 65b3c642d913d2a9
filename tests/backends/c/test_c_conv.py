"""C col2im (conv2d input gradient) against the numpy kernel, channels-last and other layouts."""
from __future__ import annotations

import numpy as np
import pytest

from backends.c.conv import MIN_CHANNELS
from core.tensor.conv import Conv2d, Conv2dGradInputs
from core.tensor.type import TensorType

from c_helpers import assert_same, c_and_numpy_kernels, needs_cc
from conv_pool_cases import CONV_CONFIGS

pytestmark = needs_cc

CONFIGS = CONV_CONFIGS + [dict(border_mode=(3, 0))]  # and padding wider than the kernel


def _channels_last(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def _strided_channels_last(a):
    big = np.zeros((a.shape[0], a.shape[2], a.shape[3], 2 * a.shape[1]), a.dtype)
    big[..., ::2] = a.transpose(0, 2, 3, 1)
    return big[..., ::2].transpose(0, 3, 1, 2)  # channel stride 2


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cfg", CONFIGS)
def test_conv_kernels_match_numpy(cfg, dtype):
    rng = np.random.default_rng(0)
    t4 = TensorType(dtype, (None,) * 4)
    vec = TensorType("int64", (2,))
    (ci,), (ni,) = c_and_numpy_kernels([Conv2dGradInputs(**cfg).make_node(t4("w"), t4("g"),
                                                                          vec("s"))])
    assert ci.__module__ == "backends.c.conv"
    x = rng.normal(size=(2, MIN_CHANNELS, 7, 8)).astype(dtype)
    w = rng.normal(size=(4, MIN_CHANNELS, 3, 2)).astype(dtype)
    y = ref_conv(x, w, cfg)
    g = rng.normal(size=y.shape).astype(dtype)
    hs = np.array([7, 8])
    for name, lay in (("channels-last", _channels_last), ("strided", _strided_channels_last),
                      ("channels-first", np.ascontiguousarray)):
        got = ci(w, lay(g), hs)
        assert_same(got, ni(w, g, hs), dtype, f"input gradient {name}")
        if name == "channels-last":
            assert got.transpose(0, 2, 3, 1).flags.c_contiguous
    few = w[:, :2]  # fewer channels than MIN_CHANNELS: the numpy kernel
    assert_same(ci(few, _channels_last(g), hs), ni(few, g, hs), dtype, "few channels")


def ref_conv(x, w, cfg):
    """The forward output (for the output gradient's shape), from the numpy kernel."""
    (_,), (nf,) = c_and_numpy_kernels([Conv2d(**cfg).make_node(*[TensorType(x.dtype, (None,) * 4)(n)
                                                                for n in "xw"])])
    return nf(x, w)


def test_errors_match_numpy():
    t4 = TensorType("float32", (None,) * 4)
    vec = TensorType("int64", (2,))
    (ci,), _ = c_and_numpy_kernels([Conv2dGradInputs().make_node(t4("w"), t4("g"), vec("s"))])
    g = _channels_last(np.zeros((1, 8, 2, 2), "float32"))
    with pytest.raises(ValueError, match="output gradient"):
        ci(np.zeros((8, 8, 3, 3), "float32"), g, np.array([5, 5]))
    with pytest.raises(ValueError, match="smaller"):
        ci(np.zeros((8, 8, 3, 3), "float32"), g, np.array([2, 2]))
