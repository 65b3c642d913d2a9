"""Property tests: random elementwise expressions evaluate like numpy."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core.tensor as T
from core import function
from core.graph.utils import graph_inputs


# core semantics are checked on the reference backend (C kernels are tested against it)
pytestmark = pytest.mark.usefixtures("numpy_backend")


UNARY = [
    (T.tanh, np.tanh), (T.sin, np.sin), (T.cos, np.cos), (lambda a: -a, np.negative),
    (T.abs, np.abs), (T.sqr, np.square), (lambda a: T.exp(T.clip(a, -5.0, 5.0)),
                                          lambda a: np.exp(np.clip(a, -5.0, 5.0))),
    (lambda a: T.log1p(T.abs(a)), lambda a: np.log1p(np.abs(a))),
    (T.nnet.sigmoid, lambda a: 1 / (1 + np.exp(-a))),
]
BINARY = [
    (lambda a, b: a + b, np.add), (lambda a, b: a - b, np.subtract),
    (lambda a, b: a * b, np.multiply), (T.maximum, np.maximum), (T.minimum, np.minimum),
    (lambda a, b: a / (1.0 + b * b), lambda a, b: a / (1.0 + b * b)),
    (lambda a, b: T.switch(a > b, a, b * 0.5), lambda a, b: np.where(a > b, a, b * 0.5)),
]


def trees(n_leaves: int, depth: int = 3):
    """Random expression trees: ('leaf', k), ('const', c), ('un', i, t) or ('bin', i, t1, t2)."""
    leaf = st.one_of(st.tuples(st.just("leaf"), st.integers(0, n_leaves - 1)),
                     st.tuples(st.just("const"), st.integers(-300, 300).map(lambda v: v / 100)))
    return st.recursive(leaf, lambda sub: st.one_of(
        st.tuples(st.just("un"), st.integers(0, len(UNARY) - 1), sub),
        st.tuples(st.just("bin"), st.integers(0, len(BINARY) - 1), sub, sub)), max_leaves=2 ** depth)


def evaluate(tree, env, symbolic: bool):
    """The tree over ``env`` (symbolic variables or arrays).

    Subtrees without leaves fold to Python floats on both sides, so they stay
    weakly typed, as constants written in user code are.
    """
    kind = tree[0]
    if kind == "leaf":
        return env[tree[1]]
    if kind == "const":
        return tree[1]
    args = [evaluate(t, env, symbolic) for t in tree[2:]]
    table = UNARY if kind == "un" else BINARY
    if all(isinstance(a, float) for a in args):
        with np.errstate(all="ignore"):
            return float(table[tree[1]][1](*[np.float64(a) for a in args]))
    return table[tree[1]][0 if symbolic else 1](*args)


SHAPES = [((3, 4), (3, 4)), ((1, 4), (3, 1)), ((4,), (3, 4)), ((), (2, 3))]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(tree=trees(2), dtype=st.sampled_from(["float32", "float64"]),
       shapes=st.sampled_from(SHAPES), seed=st.integers(0, 2 ** 16))
def test_random_elementwise_expressions_match_numpy(tree, dtype, shapes, seed):
    variables = [T.TensorType(dtype, s)(n) for n, s in zip("ab", shapes)]
    rng = np.random.default_rng(seed)
    values = [rng.uniform(-2, 2, s).astype(dtype) for s in shapes]
    out = evaluate(tree, variables, symbolic=True)
    if isinstance(out, float):
        return
    used = [k for k, v in enumerate(variables) if v in graph_inputs([out])]
    got = function([variables[k] for k in used], out)(*[values[k] for k in used])
    with np.errstate(all="ignore"):
        want = np.asarray(evaluate(tree, values, symbolic=False))
    assert got.dtype == out.dtype == dtype  # weak Python constants keep the tensors' dtype
    assert got.shape == want.shape
    tol = 2e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.floats(-1e3, 1e3), b=st.floats(-1e3, 1e3), dtype=st.sampled_from(["float32", "float64"]))
def test_scalar_arithmetic_matches_numpy(a, b, dtype):
    x, y = T.TensorType(dtype, ())("x"), T.TensorType(dtype, ())("y")
    f = function([x, y], [x + y, x - y, x * y, T.maximum(x, y), x * 2.0 + 0.5])
    av, bv = np.asarray(a, dtype), np.asarray(b, dtype)
    for got, want in zip(f(av, bv), [av + bv, av - bv, av * bv, np.maximum(av, bv), av * 2.0 + 0.5]):
        assert got.dtype == dtype and got.shape == ()
        np.testing.assert_allclose(got, want, rtol=1e-6)
