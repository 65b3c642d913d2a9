"""C max-pooling kernels (forward and gradient) against the numpy reference, every layout."""
from __future__ import annotations

import numpy as np
import pytest

import backends
from core.tensor.signal.pool import MaxPoolGrad, Pool
from core.tensor.type import TensorType

from c_helpers import assert_same, c_and_numpy_kernels, layouts, needs_cc
from conv_pool_cases import POOL_CONFIGS

pytestmark = needs_cc

CONFIGS = POOL_CONFIGS


def _nhwc(x):
    """The same values as an (N, C, H, W) view of channels-last memory."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cfg", CONFIGS)
def test_max_pool_and_gradient_match_numpy(cfg, dtype):
    rng = np.random.default_rng(0)
    t = TensorType(dtype, (None,) * 4)
    x, m, g = t("x"), t("m"), t("g")
    fwd = Pool(mode="max", **cfg).make_node(x)
    grad = MaxPoolGrad(mode="max", **cfg).make_node(x, m, g)
    (cf, cg), (nf, ng) = c_and_numpy_kernels([fwd, grad])
    assert cf.fn.__module__ == cg.fn.__module__ == "backends.c.pool"
    xv = rng.normal(size=(2, 3, 7, 6)).astype(dtype)
    xv[0, 0, :2, :2] = 1.5  # ties inside a window: every maximal element gets the gradient
    xv[1, 2, 3, 3] = np.nan  # nan propagates to its windows, as np.maximum
    for name, xl in [*layouts(xv), ("channels-last", _nhwc(xv))]:
        y = cf(xl)
        assert_same(y, nf(xl), dtype, f"forward {name}")
        for gz in (rng.normal(size=y.shape).astype(dtype), _nhwc(rng.normal(size=y.shape))):
            gz = gz.astype(dtype, copy=False)
            assert_same(cg(xl, y, gz), ng(xl, y, gz), dtype, f"gradient {name}")
    assert cf(_nhwc(xv)).transpose(0, 2, 3, 1).flags.c_contiguous  # layout kept


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("cfg", [dict(ws=(2, 2)), dict(ws=(3, 3), stride=(1, 1), pad=(1, 1))])
def test_threaded_pool_matches_numpy(cfg, threads):
    """Large enough for the worker pool: the images taken one at a time by its threads
    (tiling windows write the gradient, overlapping ones add into it)."""
    from core.config import config

    rng = np.random.default_rng(4)
    t = TensorType("float64", (None,) * 4)
    x, m, g = t("x"), t("m"), t("g")
    fwd = Pool(mode="max", ignore_border=True, **cfg).make_node(x)
    grad = MaxPoolGrad(mode="max", ignore_border=True, **cfg).make_node(x, m, g)
    (cf, cg), (nf, ng) = c_and_numpy_kernels([fwd, grad])
    xv = _nhwc(rng.normal(size=(9, 16, 24, 22)))
    with config.change_flags(threads=threads):
        y = cf(xv)
        assert_same(y, nf(xv), "float64", "forward")
        gz = rng.normal(size=y.shape)
        assert_same(cg(xv, y, gz), ng(xv, y, gz), "float64", "gradient")


def test_other_modes_and_ranks_use_numpy():
    t3 = TensorType("float64", (None,) * 3)("x")
    t4 = TensorType("float64", (None,) * 4)("x")
    for node in (Pool((2, 2), mode="sum").make_node(t4), Pool((2, 2)).make_node(t3)):
        (k,) = backends.make_kernels([node], "c", lazy=False)
        assert k.fn.__module__.startswith("backends.numpy")


def test_gradient_shape_error():
    t = TensorType("float32", (None,) * 4)
    x, m, g = t("x"), t("m"), t("g")
    (k,), _ = c_and_numpy_kernels([MaxPoolGrad((2, 2)).make_node(x, m, g)])
    xv = np.zeros((1, 1, 4, 4), "float32")
    with pytest.raises(ValueError, match="output gradient"):
        k(xv, np.zeros((1, 1, 2, 2), "float32"), np.zeros((1, 1, 3, 2), "float32"))


def test_gradient_reuses_a_free_buffer_and_never_a_held_one():
    """Channels-last gradients of tiling windows go to a ring of reused buffers (large
    results only); one still held by the caller is never overwritten."""
    t = TensorType("float32", (None,) * 4)
    x, m, g = t("x"), t("m"), t("g")
    (cg,), (ng,) = c_and_numpy_kernels([MaxPoolGrad((2, 2)).make_node(x, m, g)])
    rng = np.random.default_rng(1)
    xv = _nhwc(rng.normal(size=(4, 32, 33, 35)).astype("float32"))  # odd: uncovered edges
    mv = backends.make_kernels([Pool((2, 2)).make_node(x)], "numpy")[0](xv)

    def call():
        gz = rng.normal(size=mv.shape).astype("float32")
        got = cg(xv, mv, gz)
        assert_same(got, ng(xv, mv, gz), "float32")
        return got

    first = call()
    base = id(first.base)  # (not a reference: that would hold the buffer)
    del first
    held = call()
    assert id(held.base) == base  # the free buffer, its uncovered edges zeroed again
    copy = held.copy()
    assert id(call().base) != base
    assert_same(held, copy, "float32", "the held result")
