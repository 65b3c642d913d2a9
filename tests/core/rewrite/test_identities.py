"""x * 1, x + 0, x - 0, x / 1, x * 0, x - x, 0 - x fold away in FAST_RUN (canonicalize), as in
Theano/PyTensor, keeping the result's dtype and broadcast shape."""
import numpy as np
import pytest

import core.tensor as T
from core import function
from rewrite_helpers import rewrite_only, scalar_ops

x, y = T.dvector("x"), T.dvector("y")
m, r = T.dmatrix("m"), T.drow("r")
i, f32 = T.lvector("i"), T.fvector("f32")
VALUES = {x: np.array([0.5, -2.0, 3.0]), y: np.array([1.0, 4.0, -1.0]),
          m: np.arange(6.0).reshape(2, 3), r: np.array([[1.0, 2.0, 3.0]]),
          i: np.array([1, -2, 7]), f32: np.array([1.5, -0.25, 2.0], dtype="float32")}

# name -> (expression, the ops left after FAST_RUN)
TABLE = {
    "x*1": (x * 1, []),
    "1*x": (1 * x, []),
    "x+0": (x + 0, []),
    "x-0": (x - 0, []),
    "x/1": (x / 1, []),
    "x*0": (x * 0, ["Second"]),
    "0*exp(x)": (0 * T.exp(x), ["Second"]),          # exp(x) is not computed for its shape
    "x*0*y": (x * 0 * y, ["Second"]),
    "x-x": (x - x, ["Second"]),
    "exp(x)-exp(x)": (T.exp(x) - T.exp(x), ["Second"]),
    "0-x": (0 - x, ["Neg"]),
    "m*0+x": (m * 0 + x, ["DimShuffle", "Second"]),   # zeros of m's shape, plus x: x filled
    "r*0": (r * 0, ["Second"]),
    "x*zeros(2,1)": (x * np.zeros((2, 1)), ["DimShuffle", "Second"]),  # broadcast to (2, 3)
    "i*0": (i * 0, ["Second"]),                       # integers too
    "i-i": (i - i, ["Second"]),
    "i*1.0": (i * 1.0, ["Cast"]),                     # the float64 product keeps its dtype
    "f32*1": (f32 * 1, []),
    "f32+0.0": (f32 + np.float64(0.0), ["Cast"]),     # float64: as the product's dtype says
    "sum(x*0)": (T.sum(x * 0), []),
}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_identity_folds_and_keeps_type(name):
    expr, ops_left = TABLE[name]
    inputs = [v for v in VALUES if v in _graph_inputs(expr)]
    f = function(inputs, expr)
    assert sorted(scalar_ops(f)) == sorted(ops_left)
    out = f.maker.fgraph.outputs[0]
    assert out.type == expr.type
    args = [VALUES[v] for v in inputs]
    got = f(*args)
    want = function(inputs, expr, mode="FAST_COMPILE")(*args)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def _graph_inputs(expr):
    from core.graph.utils import graph_inputs

    return set(graph_inputs([expr]))


def test_zero_product_ignores_nan_and_inf_as_theano():
    f = function([x], T.log(x) * 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.testing.assert_array_equal(f(np.array([-1.0, 0.0, 2.0])), np.zeros(3))


def test_rules_alone():
    assert scalar_ops(rewrite_only([x], [x * 0], "local_mul_zero")) == ["Second"]
    assert scalar_ops(rewrite_only([x], [0 - x], "local_sub_canonical")) == ["Neg"]
