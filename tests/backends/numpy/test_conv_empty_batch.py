"""A convolution over a batch of zero samples (a data-parallel process whose slice of the
last batch is empty) gives empty outputs and zero filter gradients."""
from __future__ import annotations

import numpy as np
import pytest

import core.tensor as T
from core import function
from core.config import config


@pytest.mark.parametrize("backend", ["numpy", "c"])
@pytest.mark.parametrize("border_mode", ["valid", "half"])
def test_conv2d_and_gradients_on_an_empty_batch(backend, border_mode):
    x, w = T.dtensor4("x"), T.dtensor4("w")
    y = T.nnet.conv2d(x, w, border_mode=border_mode)
    cost = T.sum(T.sqr(y))
    with config.change_flags(backend=backend):
        f = function([x, w], [y] + T.grad(cost, [x, w]))
    out, gx, gw = f(np.zeros((0, 2, 6, 6)), np.ones((4, 2, 3, 3)))
    assert out.shape == ((0, 4, 4, 4) if border_mode == "valid" else (0, 4, 6, 6))
    assert gx.shape == (0, 2, 6, 6)
    np.testing.assert_array_equal(gw, np.zeros((4, 2, 3, 3)))
