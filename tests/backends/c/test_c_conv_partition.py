"""How the direct and Winograd conv kernels split their work across the worker pool's
threads, against numpy: batches smaller than the filter gradients' chunks (one a thread),
a single image, more threads than images, several blocks of tiles per chunk (the first
product of a chunk writes its part, the rest add; the parts are summed inside Winograd's
back transform), padded groups that zero their own borders after a larger call left data
in the scratch; the same values on every call at a thread count."""
from __future__ import annotations

import numpy as np
import pytest

import backends.c.conv as cconv
from c_helpers import needs_cc
from test_c_conv import _kernels
from test_c_conv_direct import check_same_on_every_call

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
    kernels = _kernels(dict(border_mode="half"), "float32")
    # images: larger first (the scratch then holds data where later borders lie), one, fewer
    # than the threads, an odd count
    for n, h, wd in ((5, 17, 19), (1, 6, 7), (2, 9, 9), (3, 5, 10)):
        x = rng.normal(size=(n, 16, h, wd)).astype("float32")
        w = rng.normal(size=(32, 16, kh, kh)).astype("float32")
        check_same_on_every_call(kernels, x, w, threads,
                                 f"{n} images {h}x{wd}, {kh}x{kh} filters, {threads} threads", 2)


def test_filter_gradient_blocks_follow_the_size_of_du(monkeypatch):
    """A transformed gradient that fits L2 beside the blocks gets the forward's block budget;
    a larger one the filter gradient's (fewer passes over it)."""
    wino = cconv.conv_winograd
    fits, big = wino.block(64, 64, 32, 32, 4, True), wino.block(128, 128, 16, 16, 4, True)
    assert fits == wino.block(64, 64, 32, 32, 4, False)
    assert big[0] * 36 * 256 * 4 > wino.FORWARD_BYTES
