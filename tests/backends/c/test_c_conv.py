"""C conv2d kernels (forward, filter and input gradients) against the numpy kernels:
random shapes, strides, padding, dilation, flips, layouts, float32 and float64."""
from __future__ import annotations

import numpy as np
import pytest

import backends.c.conv as cconv
from core.tensor.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights
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


LAYOUTS = (("channels-last", _channels_last), ("strided", _strided_channels_last),
           ("channels-first", np.ascontiguousarray))


def _kernels(cfg, dtype):
    t4 = TensorType(dtype, (None,) * 4)
    vec = TensorType("int64", (2,))
    nodes = [Conv2d(**cfg).make_node(t4("x"), t4("w")),
             Conv2dGradWeights(**cfg).make_node(t4("x"), t4("g"), vec("k")),
             Conv2dGradInputs(**cfg).make_node(t4("w"), t4("g"), vec("s"))]
    got, want = c_and_numpy_kernels(nodes)
    assert all(k.fn.__module__ == "backends.c.conv" for k in got)
    return got, want


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cfg", CONFIGS)
def test_conv_kernels_match_numpy(cfg, dtype, monkeypatch):
    rng = np.random.default_rng(len(str(cfg)))
    (cf, cw, ci), (nf, nw, ni) = _kernels(cfg, dtype)
    for trial in range(3):
        n, c, f = rng.integers(1, 4), rng.integers(1, 10), rng.integers(1, 9)
        h, wd, kh, kw = rng.integers(6, 11), rng.integers(6, 11), rng.integers(1, 4), rng.integers(1, 4)
        x = rng.normal(size=(n, c, h, wd)).astype(dtype)
        w = rng.normal(size=(f, c, kh, kw)).astype(dtype)
        try:
            y = nf(x, w)
        except ValueError:
            continue  # smaller than the dilated filters: the error test covers it
        g = rng.normal(size=y.shape).astype(dtype)
        # small blocks too: several blocks per call, the last one partial
        monkeypatch.setattr(cconv, "BLOCK_BYTES", [1 << 18, 7 * kh * kw * c * x.itemsize][trial % 2])
        for name, lay in LAYOUTS:
            what = f"{name}, x {x.shape}, w {w.shape}"
            got = cf(lay(x), w)
            assert_same(got, y, dtype, f"forward {what}")
            if name != "channels-first" and min(x.shape) > 1:  # (size-1 axes: any layout)
                assert got.transpose(0, 2, 3, 1).flags.c_contiguous
            assert_same(cw(lay(x), lay(g), np.array([kh, kw])), nw(x, g, np.array([kh, kw])),
                        dtype, f"filter gradient {what}", tol=1e-4 if dtype == "float32" else None)
            assert_same(ci(w, lay(g), np.array([h, wd])), ni(w, g, np.array([h, wd])), dtype,
                        f"input gradient {what}")
        # filters given as the Keras layer's view of a (kh, kw, in, out) kernel
        keras_w = np.ascontiguousarray(w.transpose(2, 3, 1, 0)).transpose(3, 2, 0, 1)
        assert_same(cf(_channels_last(x), keras_w), y, dtype, "forward, Keras filters")


def test_errors_match_numpy():
    (cf, cw, ci), (nf, nw, ni) = _kernels({}, "float32")
    g = _channels_last(np.zeros((1, 8, 2, 2), "float32"))
    with pytest.raises(ValueError, match="output gradient"):
        ci(np.zeros((8, 8, 3, 3), "float32"), g, np.array([5, 5]))
    with pytest.raises(ValueError, match="smaller"):
        ci(np.zeros((8, 8, 3, 3), "float32"), g, np.array([2, 2]))
    with pytest.raises(ValueError, match="channels"):
        cf(_channels_last(np.zeros((1, 3, 5, 5), "float32")), np.zeros((2, 4, 3, 3), "float32"))
    with pytest.raises(ValueError, match="output gradient"):
        cw(_channels_last(np.zeros((1, 3, 5, 5), "float32")), g, np.array([3, 3]))


def check_threaded(cfg, x, w, threads: int) -> None:
    """The three float64 kernels at ``threads`` threads against numpy's."""
    from core.config import config

    (cf, cw, ci), (nf, nw, ni) = _kernels(cfg, "float64")
    y = nf(x, w)
    g = np.random.default_rng(1).normal(size=y.shape)
    khw, hw = np.array(w.shape[2:]), np.array(x.shape[2:])
    with config.change_flags(threads=threads):
        assert_same(cf(_channels_last(x), w), y, "float64", "forward")
        assert_same(cw(_channels_last(x), _channels_last(g), khw), nw(x, g, khw), "float64",
                    "filter gradient")
        assert_same(ci(w, _channels_last(g), hw), ni(w, g, hw), "float64", "input gradient")


@pytest.mark.parametrize("threads", [1, 3])
def test_threaded_kernels_match_numpy(threads):
    """Each thread takes a range of images (uneven ranges here: 5 images on 3 threads)."""
    rng = np.random.default_rng(1)
    check_threaded(dict(border_mode="half", subsample=(2, 1)), rng.normal(size=(5, 6, 9, 8)),
                   rng.normal(size=(7, 6, 3, 3)), threads)
