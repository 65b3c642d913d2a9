"""C MaxPoolReluBiasGrad (max-pool gradient, ReLU mask and bias sum in one pass) against
the numpy kernel and against the unfused C pair it replaces: every pool geometry, ties,
NaN and inf, float32 and float64, 1 and 3 threads, channels-first (numpy's kernel)."""
from __future__ import annotations

import numpy as np
import pytest

import backends
from core.config import config
from core.tensor.conv import ReluBiasGrad
from core.tensor.signal.pool import MaxPoolGrad, MaxPoolReluBiasGrad, Pool
from core.tensor.type import TensorType

from c_helpers import assert_same, c_and_numpy_kernels, needs_cc
from conv_pool_cases import POOL_CONFIGS

pytestmark = needs_cc


def _nhwc(x):
    """The same values as an (N, C, H, W) view of channels-last memory."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def _relu_output(rng, shape, dtype, special: bool):
    """A ReLU's output: zeros, ties inside windows and, with ``special``, NaN and inf."""
    x = np.maximum(rng.normal(size=shape), 0).astype(dtype)
    x[0, 0, :2, :2] = 1.5  # a tie: every maximal element gets the gradient
    x[-1, -1, :3, :3] = 0  # a window of zeros: its maximum is 0, masked out
    if special:
        x[0, 1, 1, 1] = np.nan  # its windows' maxima are NaN: no element equals them
        x[-1, 0, 0, 1] = np.inf
    return _nhwc(x)


def _kernels(cfg, dtype):
    t = TensorType(dtype, (None,) * 4)
    nodes = [MaxPoolReluBiasGrad(**cfg).make_node(t(), t(), t()),
             MaxPoolGrad(**cfg).make_node(t(), t(), t()), ReluBiasGrad().make_node(t(), t())]
    (fused, grad, rbg), (ref, _, _) = c_and_numpy_kernels(nodes)
    pool = backends.make_kernels([Pool(**cfg).make_node(t())], "numpy")[0]
    return fused, grad, rbg, ref, pool


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cfg", POOL_CONFIGS)
def test_matches_numpy_and_the_unfused_pair(cfg, dtype, threads):
    fused, grad, rbg, ref, pool = _kernels(cfg, dtype)
    rng = np.random.default_rng(len(str(cfg)))
    tol = 1e-4 if dtype == "float32" else None
    for shape in [(3, 5, 7, 9), (9, 16, 24, 22)]:  # the second on the worker pool
        for special in (False, True):
            x = _relu_output(rng, shape, dtype, special)
            m = pool(x)
            gz = rng.normal(size=m.shape).astype(dtype)
            if special:  # non-finite gradients too (the numpy MaxPoolGrad spreads them
                gz[0, 1, 0, 0], gz[-1, 0, 0, 0] = np.inf, np.nan  # over windows: below)
            # channels-last gz (as the layers give it: the unrolled whole-window loop), or not
            gz = _nhwc(gz) if special == (shape[0] == 3) else gz
            with config.change_flags(threads=threads), np.errstate(invalid="ignore"):
                pre, bias = fused(x, m, gz)
                assert pre.transpose(0, 2, 3, 1).flags.c_contiguous  # the layout kept
                # the unfused C pair, as the graph ran before the rewrite: the same mask
                wpre, wbias = rbg(x.transpose(0, 2, 3, 1), grad(x, m, gz).transpose(0, 2, 3, 1))
                np.testing.assert_array_equal(pre, wpre.transpose(0, 3, 1, 2))
                assert_same(bias, wbias, dtype, "bias against the C pair", tol=tol)
                if not special:
                    npre, nbias = ref(x, m, gz)
                    assert_same(pre, npre, dtype, "mask against numpy")
                    assert_same(bias, nbias, dtype, "bias against numpy", tol=tol)


def test_same_result_at_any_thread_count():
    """The images' parts of the bias gradient are added in image order: bit-identical at 1
    and 3 threads."""
    fused, _, _, _, pool = _kernels(dict(ws=(2, 2)), "float32")
    rng = np.random.default_rng(5)
    x = _relu_output(rng, (24, 32, 16, 16), "float32", False)
    m = pool(x)
    gz = _nhwc(rng.normal(size=m.shape).astype("float32"))
    results = []
    for threads in (1, 3, 1, 3):
        with config.change_flags(threads=threads):
            results.append([np.array(a) for a in fused(x, m, gz)])
    for pre, bias in results[1:]:
        np.testing.assert_array_equal(pre, results[0][0])
        np.testing.assert_array_equal(bias, results[0][1])


@pytest.mark.parametrize("cfg", [POOL_CONFIGS[0], POOL_CONFIGS[4]])
def test_channels_first_runs_numpy_kernel(cfg):
    fused, _, _, ref, pool = _kernels(cfg, "float64")
    rng = np.random.default_rng(2)
    x = np.ascontiguousarray(_relu_output(rng, (2, 3, 6, 7), "float64", False))
    m = pool(x)
    gz = rng.normal(size=m.shape)
    for got, want in zip(fused(x, m, gz), ref(x, m, gz)):
        assert_same(got, want, "float64")


def test_empty_pooled_output_gives_zeros():
    fused, *_ = _kernels(dict(ws=(3, 3)), "float32")
    x = _nhwc(np.ones((2, 4, 2, 5), "float32"))  # 2 rows: no 3x3 window
    pre, bias = fused(x, np.zeros((2, 4, 0, 1), "float32"), np.zeros((2, 4, 0, 1), "float32"))
    assert not pre.any() and pre.shape == x.shape and not bias.any() and bias.shape == (4,)


def test_shape_errors():
    fused, *_ = _kernels(dict(ws=(2, 2)), "float32")
    x = _nhwc(np.zeros((1, 2, 4, 4), "float32"))
    with pytest.raises(ValueError, match="output gradient"):
        fused(x, np.zeros((1, 2, 2, 2), "float32"), np.zeros((1, 2, 3, 2), "float32"))
    with pytest.raises(ValueError, match="pooled output"):
        fused(x, np.zeros((1, 2, 2, 1), "float32"), np.zeros((1, 2, 2, 2), "float32"))
