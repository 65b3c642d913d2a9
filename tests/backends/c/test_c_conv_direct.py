"""The direct C conv2d kernels (output channels a multiple of the vector length) against the
numpy kernels: random shapes with full register tiles and remainders, strides, padding,
dilation, flips, layouts, threads, float32 and float64; fused bias and ReLU."""
from __future__ import annotations

import numpy as np
import pytest

import backends.c.conv as cconv
from backends.c.conv_direct import lanes
from core.tensor.conv import Conv2dBiasAct
from core.tensor.type import TensorType

from c_helpers import assert_same as _assert_same, c_and_numpy_kernels, needs_cc
from conv_pool_cases import CONV_CONFIGS
from test_c_conv import LAYOUTS, _channels_last, _kernels, check_threaded

pytestmark = needs_cc


def assert_same(got, want, dtype, what=""):
    """Within float rounding of the output's scale: Winograd's transforms (taken by 3x3
    filters at stride 1) round at the scale of the whole sum, not of each output."""
    scale = max(1.0, float(np.nanmax(np.abs(want)))) if np.size(want) else 1.0
    _assert_same(got, want, dtype, what, tol=(2e-5 if dtype == "float32" else 1e-13) * scale)


@pytest.fixture
def direct_calls(monkeypatch):
    """The channel counts each kernel call sent to the direct kernels."""
    seen = []
    real = cconv._direct

    def spy(channels, dtype):
        taken = real(channels, dtype)
        if taken:
            seen.append(channels)
        return taken

    monkeypatch.setattr(cconv, "_direct", spy)
    return seen


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cfg", CONV_CONFIGS + [dict(border_mode=(3, 0))])
def test_direct_kernels_match_numpy(cfg, dtype, direct_calls):
    rng = np.random.default_rng(len(str(cfg)) + len(dtype))
    v = lanes(dtype)
    (cf, cw, ci), (nf, nw, ni) = _kernels(cfg, dtype)
    # (in, out) channels: one vector, a pair plus a single vector, a 3-channel first layer
    for c, f in ((v, v), (2 * v, 3 * v), (3, 2 * v)):
        n, kh, kw = rng.integers(1, 4), rng.integers(1, 4), rng.integers(1, 4)
        h, wd = rng.integers(6, 12), rng.integers(13, 30)  # rows of a full tile and a rest
        x = rng.normal(size=(n, c, h, wd)).astype(dtype)
        w = rng.normal(size=(f, c, kh, kw)).astype(dtype)
        try:
            y = nf(x, w)
        except ValueError:
            continue
        g = rng.normal(size=y.shape).astype(dtype)
        for name, lay in LAYOUTS[:2]:  # the channels-last layouts
            what = f"{name}, x {x.shape}, w {w.shape}"
            assert_same(cf(lay(x), w), y, dtype, f"forward {what}")
            assert_same(cw(lay(x), lay(g), np.array([kh, kw])), nw(x, g, np.array([kh, kw])),
                        dtype, f"filter gradient {what}")
            assert_same(ci(w, lay(g), np.array([h, wd])), ni(w, g, np.array([h, wd])), dtype,
                        f"input gradient {what}")
    assert f in direct_calls and v in direct_calls


@pytest.mark.parametrize("threads", [1, 3])
def test_direct_threaded_kernels_match_numpy(threads, direct_calls):
    """Each thread takes a range of images and pads them in its own buffer; the filter
    gradient sums the threads' parts."""
    rng = np.random.default_rng(2)
    check_threaded(dict(border_mode="half"), rng.normal(size=(5, 16, 9, 14)),
                   rng.normal(size=(8, 16, 3, 3)), threads)
    assert sorted(set(direct_calls)) == [8, 16]


def check_same_on_every_call(kernels, x, w, threads: int, what: str, calls: int = 3) -> None:
    """The float32 forward and gradients at ``threads`` against numpy, and the same values on
    each of ``calls`` calls (``kernels``: ``_kernels``' C and numpy triples)."""
    from core.config import config

    (cf, cw, ci), (nf, nw, ni) = kernels
    y = nf(x, w)
    g = np.random.default_rng(x.size).normal(size=y.shape).astype("float32")
    khw, hw = np.array(w.shape[2:]), np.array(x.shape[2:])
    with config.change_flags(threads=threads):
        runs = [(np.array(cf(_channels_last(x), w)),
                 np.array(cw(_channels_last(x), _channels_last(g), khw)),
                 np.array(ci(w, _channels_last(g), hw))) for _ in range(calls)]
    assert_same(runs[0][0], y, "float32", f"forward, {what}")
    assert_same(runs[0][1], nw(x, g, khw), "float32", f"filter gradient, {what}")
    assert_same(runs[0][2], ni(w, g, hw), "float32", f"input gradient, {what}")
    for run in runs[1:]:
        for got, first in zip(run, runs[0]):
            np.testing.assert_array_equal(got, first, err_msg=what)


@pytest.mark.parametrize("threads", [1, 3])
def test_threaded_chunks_are_the_same_at_any_split(threads, direct_calls):
    """The worker pool's threads take the images one at a time (forward, input gradient)
    or in chunks, one per thread (filter gradients, their parts added in chunk order):
    float32 Winograd and direct kernels against numpy, and the same values on each call."""
    rng = np.random.default_rng(8)
    kernels = _kernels(dict(border_mode="half"), "float32")
    for kh in (3, 2):  # Winograd, direct
        x = rng.normal(size=(11, 16, 10, 9)).astype("float32")
        w = rng.normal(size=(32, 16, kh, kh)).astype("float32")
        check_same_on_every_call(kernels, x, w, threads, f"{kh}x{kh}")
    assert 32 in direct_calls


@pytest.mark.parametrize("activation", Conv2dBiasAct.ACTIVATIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cfg", [dict(), dict(border_mode="half", subsample=(2, 1)),
                                 dict(border_mode="full", filter_dilation=(1, 2))])
def test_fused_bias_and_activation_match_numpy(cfg, dtype, activation, direct_calls):
    """Bias and ReLU applied in the direct kernel's tile, or after the im2col product
    (output channels not a multiple of the vector length), NaN kept by the ReLU."""
    vec = TensorType(dtype, (None,))
    t4 = TensorType(dtype, (None,) * 4)
    node = Conv2dBiasAct(activation=activation, **cfg).make_node(t4(), t4(), vec())
    (got,), (want,) = c_and_numpy_kernels([node])
    rng = np.random.default_rng(5)
    for f in (2 * lanes(dtype), 5):
        x = rng.normal(size=(2, 3, 9, 15)).astype(dtype)
        x[1, 2, 4, 4] = np.nan
        w, b = rng.normal(size=(f, 3, 3, 2)).astype(dtype), rng.normal(size=f).astype(dtype)
        for name, lay in LAYOUTS:
            out = got(lay(x), w, b[::-1].copy()[::-1])  # a strided bias
            assert_same(out, want(x, w, b), dtype, f"{activation}, {f} filters, {name}")
            assert np.isnan(out).any()
    assert 2 * lanes(dtype) in direct_calls
    with pytest.raises(ValueError, match="bias"):
        got(_channels_last(x), w, b[:-1])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cfg", [dict(), dict(border_mode="half"), dict(border_mode="full"),
                                 dict(border_mode=(1, 2), filter_flip=False),
                                 dict(border_mode=(3, 0))])
def test_winograd_matches_numpy(cfg, dtype, monkeypatch):
    """3x3 filters at stride 1 take Winograd F(4x4, 3x3) (forward, both gradients):
    odd and even output sizes (partial 2x2 tiles), several blocks of tiles, fused bias and
    ReLU, channels-last layouts."""
    taken, real = [], cconv.conv_winograd.applies

    def spy(*args):
        if real(*args):
            taken.append(args[3:5])  # (in, out) channels
            return True
        return False

    monkeypatch.setattr(cconv.conv_winograd, "applies", spy)
    rng = np.random.default_rng(7)
    v = lanes(dtype)
    (cf, cw, ci), (nf, nw, ni) = _kernels(cfg, dtype)
    t4, vec = TensorType(dtype, (None,) * 4), TensorType(dtype, (None,))
    node = Conv2dBiasAct(activation="relu", **cfg).make_node(t4(), t4(), vec())
    (fused,), (fused_ref,) = c_and_numpy_kernels([node])
    for n, h, wd, c, f in ((2, 7, 9, v, 2 * v), (1, 20, 21, 2 * v, v), (3, 3, 4, v, 3 * v)):
        x = rng.normal(size=(n, c, h, wd)).astype(dtype)
        w = rng.normal(size=(f, c, 3, 3)).astype(dtype)
        b = rng.normal(size=f).astype(dtype)
        try:
            y = nf(x, w)
        except ValueError:
            continue
        g = rng.normal(size=y.shape).astype(dtype)
        for name, lay in LAYOUTS[:2]:
            what = f"{name}, x {x.shape}, w {w.shape}"
            assert_same(cf(lay(x), w), y, dtype, f"forward {what}")
            assert_same(fused(lay(x), w, b), fused_ref(x, w, b), dtype, f"fused {what}")
            assert_same(ci(w, lay(g), np.array([h, wd])), ni(w, g, np.array([h, wd])), dtype,
                        f"input gradient {what}")
            assert_same(cw(lay(x), lay(g), np.array([3, 3])), nw(x, g, np.array([3, 3])),
                        dtype, f"filter gradient {what}")
    assert (2 * v, v) in taken and (v, 2 * v) in taken  # forward, gradients


def test_scratch_slots_follow_threads_and_images(monkeypatch):
    """The per-thread scratch (a Winograd filter-gradient part is 36*C*F elements) is sized
    for the threads that can run, not for every CPU."""
    from core.config import config

    monkeypatch.setattr(cconv, "SLOTS", 8)
    with config.change_flags(threads=3):
        assert cconv._slots(64) == 3 and cconv._slots(2) == 2
    with config.change_flags(threads=0):
        monkeypatch.setenv("OMP_NUM_THREADS", "5,2")
        assert cconv._slots(64) == 5
        monkeypatch.delenv("OMP_NUM_THREADS")
        assert cconv._slots(64) == 8
