"""The C DotElemwiseDot kernel (backends/c/row_dots.py) against the numpy reference."""
from __future__ import annotations

import numpy as np
import pytest

import core.tensor as T
from core import function
from core.tensor.rewritten_ops import DotElemwiseDot

from c_helpers import assert_same, c_and_numpy_kernels, needs_cc

pytestmark = needs_cc


def fused_node(dtype):
    """A DotElemwiseDot built by the optimizer: a logistic loss and its gradient."""
    x, v, y, s = (T.matrix("x", dtype=dtype), T.vector("v", dtype=dtype),
                  T.vector("y", dtype=dtype), T.scalar("s", dtype=dtype))
    z = T.dot(x, v)
    g = T.nnet.sigmoid(z) - y
    f = function([x, v, y, s], [T.dot(x.T, g * s), T.nnet.softplus(z) - y * z, z > 0])
    (node,) = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, DotElemwiseDot)]
    return node


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (400, 784), (1000, 20)])
def test_matches_numpy_on_shapes_and_blocks(dtype, shape):
    node = fused_node(dtype)
    (ck,), (nk,) = c_and_numpy_kernels([node])
    rng = np.random.default_rng(sum(shape))
    n, f = shape
    values = [rng.normal(size=s).astype(dtype) for s in ((n, f), (f,), (n,))]
    values.append(np.asarray([0.5], dtype))  # s, broadcast to every row
    inputs = [a.astype(i.dtype) for a, i in zip(values, node.inputs)]
    tol = 1e-4 if dtype == "float32" else 1e-10
    for got, want in zip(ck(*inputs), nk(*inputs)):
        assert_same(got, want, dtype, tol=tol)


def test_a_matrix_with_padded_rows_and_other_layouts():
    node = fused_node("float64")
    (ck,), (nk,) = c_and_numpy_kernels([node])
    rng = np.random.default_rng(3)
    big = rng.normal(size=(50, 40))
    v, y = rng.normal(size=30), rng.normal(size=50)
    for x in (big[:, 5:35], np.asfortranarray(big[:, :30]), big[::2, :30]):
        args = [x, v, y[:x.shape[0]], np.array([2.0])]
        for got, want in zip(ck(*args), nk(*args)):
            assert_same(got, want, "float64")


def test_mismatched_rows_raise_a_value_error():
    node = fused_node("float64")
    (ck,), _ = c_and_numpy_kernels([node])
    with pytest.raises(ValueError):
        ck(np.ones((5, 3)), np.ones(3), np.ones(4), np.ones(1))
