"""How the direct and Winograd conv kernels split their work across the worker pool's
threads, against numpy: batches smaller than the filter gradients' chunks (threads + 2),
a single image, more threads than images, several blocks of tiles per chunk (the first
product of a chunk writes its part, the rest add; the parts are summed inside Winograd's
back transform), padded groups that zero their own borders after a larger call left data
in the scratch; the same values on every call at a thread count."""
from __future__ import annotations

import numpy as np
import pytest

import backends.c.conv as cconv
from core.config import config

from c_helpers import needs_cc
from test_c_conv import _channels_last, _kernels
from test_c_conv_direct import assert_same

pytestmark = needs_cc


@pytest.fixture
def small_blocks(monkeypatch):
    """Winograd blocks of one register tile: a chunk of images takes several blocks."""
    monkeypatch.setattr(cconv.conv_winograd, "FORWARD_BYTES", 1)
    monkeypatch.setattr(cconv.conv_winograd, "GRADIENT_BYTES", 1)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("kh", [3, 2])  # Winograd, direct
def test_batches_smaller_than_the_chunks(threads, kh, small_blocks):
    rng = np.random.default_rng(kh + threads)
    (cf, cw, ci), (nf, nw, ni) = _kernels(dict(border_mode="half"), "float32")
    # images: larger first (the scratch then holds data where later borders lie), one, fewer
    # than threads + 2, an odd count
    for n, h, wd in ((5, 17, 19), (1, 6, 7), (2, 9, 9), (3, 5, 10)):
        x = rng.normal(size=(n, 16, h, wd)).astype("float32")
        w = rng.normal(size=(32, 16, kh, kh)).astype("float32")
        y = nf(x, w)
        g = rng.normal(size=y.shape).astype("float32")
        khw, hw = np.array([kh, kh]), np.array([h, wd])
        what = f"{n} images {h}x{wd}, {kh}x{kh} filters, {threads} threads"
        with config.change_flags(threads=threads):
            runs = [(np.array(cf(_channels_last(x), w)),
                     np.array(cw(_channels_last(x), _channels_last(g), khw)),
                     np.array(ci(w, _channels_last(g), hw))) for _ in range(2)]
        assert_same(runs[0][0], y, "float32", f"forward, {what}")
        assert_same(runs[0][1], nw(x, g, khw), "float32", f"filter gradient, {what}")
        assert_same(runs[0][2], ni(w, g, hw), "float32", f"input gradient, {what}")
        for got, first in zip(runs[1], runs[0]):
            np.testing.assert_array_equal(got, first, err_msg=what)


def test_filter_gradient_blocks_follow_the_size_of_du(monkeypatch):
    """A transformed gradient that fits L2 beside the blocks gets the forward's block budget;
    a larger one the filter gradient's (fewer passes over it)."""
    wino = cconv.conv_winograd
    fits, big = wino.block(64, 64, 32, 32, 4, True), wino.block(128, 128, 16, 16, 4, True)
    assert fits == wino.block(64, 64, 32, 32, 4, False)
    assert big[0] * 36 * 256 * 4 > wino.FORWARD_BYTES
