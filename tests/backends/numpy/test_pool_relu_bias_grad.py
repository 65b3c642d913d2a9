"""numpy MaxPoolReluBiasGrad: the values of the pair it replaces (numpy's MaxPoolGrad, then
ReluBiasGrad on the channels-last view), non-finite gradients and ties included."""
from __future__ import annotations

import numpy as np
import pytest

from backends import make_kernel
from core.tensor.conv import ReluBiasGrad
from core.tensor.signal.pool import MaxPoolGrad, MaxPoolReluBiasGrad, Pool
from core.tensor.type import TensorType

from conv_pool_cases import POOL_CONFIGS


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cfg", POOL_CONFIGS)
def test_matches_the_unfused_pair(cfg, dtype):
    t = TensorType(dtype, (None,) * 4)
    fused, grad, rbg, pool = (make_kernel(n, "numpy") for n in (
        MaxPoolReluBiasGrad(**cfg).make_node(t(), t(), t()),
        MaxPoolGrad(**cfg).make_node(t(), t(), t()), ReluBiasGrad().make_node(t(), t()),
        Pool(**cfg).make_node(t())))
    rng = np.random.default_rng(len(str(cfg)))
    x = np.maximum(rng.normal(size=(3, 4, 7, 6)), 0).astype(dtype)
    x[0, 0, :2, :2], x[1, 1, 2, 2], x[2, 2, 0, 0] = 1.5, np.nan, np.inf  # a tie, NaN, inf
    x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)  # channels-last
    m = pool(x)
    gz = rng.normal(size=m.shape).astype(dtype)
    gz[0, 1, 0, 0], gz[2, 3, 1, 1] = np.inf, np.nan
    with np.errstate(invalid="ignore"):
        pre, bias = fused(x, m, gz)
        wpre, wbias = rbg(x.transpose(0, 2, 3, 1), grad(x, m, gz).transpose(0, 2, 3, 1))
    assert pre.dtype == bias.dtype == np.dtype(dtype) and bias.shape == (4,)
    np.testing.assert_array_equal(pre, wpre.transpose(0, 3, 1, 2))
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(bias, wbias, rtol=tol, atol=tol)


def test_make_node_errors():
    t4, t3 = TensorType("float32", (None,) * 4), TensorType("float32", (None,) * 3)
    with pytest.raises(TypeError, match="MaxPoolReluBiasGrad"):
        MaxPoolReluBiasGrad((2, 2)).make_node(t3(), t3(), t3())
    with pytest.raises(TypeError, match="MaxPoolReluBiasGrad"):
        MaxPoolReluBiasGrad((2, 2), mode="sum").make_node(t4(), t4(), t4())
    with pytest.raises(TypeError, match="MaxPoolReluBiasGrad"):
        MaxPoolReluBiasGrad((2, 2)).make_node(t4(), t4(), TensorType("float64", (None,) * 4)())
