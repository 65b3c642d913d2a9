"""C ReluBiasGrad (ReLU mask and bias-gradient sum in one pass) against the numpy kernel:
float32 and float64, 2-d and 4-d, NaN and inf, threads, other layouts (numpy's kernel)."""
from __future__ import annotations

import numpy as np
import pytest

from core.config import config
from core.tensor.conv import ReluBiasGrad
from core.tensor.type import TensorType

from c_helpers import assert_same, c_and_numpy_kernels, needs_cc

pytestmark = needs_cc


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(300, 16), (5, 7, 9, 32), (1, 3), (40, 10, 10, 16)])
def test_matches_numpy(shape, dtype, threads):
    t = TensorType(dtype, (None,) * len(shape))
    (got,), (want,) = c_and_numpy_kernels([ReluBiasGrad().make_node(t(), t())])
    assert got.fn.__module__ == "backends.c.relu_bias_grad"
    rng = np.random.default_rng(len(shape))
    out, g = (rng.normal(size=shape).astype(dtype) for _ in range(2))
    out.flat[0], g.flat[1], out.flat[1] = np.nan, np.inf, -1.0
    with config.change_flags(threads=threads), np.errstate(invalid="ignore"):
        for name, (o, gg) in (("contiguous", (out, g)),
                              ("strided", (out[..., ::-1], g[..., ::-1]))):
            (p, b), (wp, wb) = got(o, gg), want(o, gg)
            assert_same(p, wp, dtype, f"mask {name}")
            assert_same(b, wb, dtype, f"bias gradient {name}",
                        tol=1e-4 if dtype == "float32" else None)


def test_same_result_at_any_thread_count():
    """Chunks of rows (4000 rows: 15 chunks) taken by the pool's threads, their parts of
    the bias gradient added in chunk order: bit-identical at 1 and 3 threads."""
    t = TensorType("float32", (None,) * 4)
    (got,), _ = c_and_numpy_kernels([ReluBiasGrad().make_node(t(), t())])
    rng = np.random.default_rng(3)
    out, g = (rng.normal(size=(40, 10, 10, 16)).astype("float32") for _ in range(2))
    results = []
    for threads in (1, 3, 1, 3):
        with config.change_flags(threads=threads):
            results.append([np.array(a) for a in got(out, g)])
    for pre, bias in results[1:]:
        np.testing.assert_array_equal(pre, results[0][0])
        np.testing.assert_array_equal(bias, results[0][1])


def test_shape_mismatch():
    t = TensorType("float32", (None, None))
    (got,), _ = c_and_numpy_kernels([ReluBiasGrad().make_node(t(), t())])
    with pytest.raises(ValueError, match="ReluBiasGrad"):
        got(np.zeros((2, 3), "float32"), np.zeros((3, 2), "float32"))


@pytest.mark.parametrize("threads", [1, 3])
def test_inplace_writes_the_mask_into_the_gradient(threads):
    """``inplace=True``: the masked gradient goes into ``g``'s buffer (strided ``g``: the
    numpy kernel, in place too), with the values of the plain op."""
    t = TensorType("float32", (None,) * 4)
    (got,), _ = c_and_numpy_kernels([ReluBiasGrad(inplace=True).make_node(t(), t())])
    (plain,), _ = c_and_numpy_kernels([ReluBiasGrad().make_node(t(), t())])
    rng = np.random.default_rng(6)
    out, g = (rng.normal(size=(40, 10, 10, 16)).astype("float32") for _ in range(2))
    out.flat[0], g.flat[1] = np.nan, np.inf
    with config.change_flags(threads=threads), np.errstate(invalid="ignore"):
        for name, gg in (("contiguous", g.copy()), ("strided", g.copy()[..., ::-1])):
            o = out if name == "contiguous" else out[..., ::-1]
            wp, wb = plain(o, gg)
            wp, wb = np.array(wp), np.array(wb)
            p, b = got(o, gg)
            assert np.shares_memory(p, gg), name
            np.testing.assert_array_equal(p, wp, err_msg=name)
            np.testing.assert_array_equal(b, wb, err_msg=name)
