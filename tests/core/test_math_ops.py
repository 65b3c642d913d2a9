"""Reductions, argmax/argmin and dot: forward against numpy, gradients by finite differences."""
import numpy as np
import pytest

import core.tensor as T
from core import function
from core.gradient import verify_grad


# core semantics are checked on the reference backend (C kernels are tested against it)
pytestmark = pytest.mark.usefixtures("numpy_backend")


DTYPES = ["float32", "float64"]
RTOL = {"float32": 1e-5, "float64": 1e-12}

REDUCTIONS = [
    ("sum", lambda x, **kw: x.sum(**kw), np.sum),
    ("mean", lambda x, **kw: x.mean(**kw), np.mean),
    ("max", lambda x, **kw: x.max(**kw), np.max),
    ("min", lambda x, **kw: x.min(**kw), np.min),
    ("prod", lambda x, **kw: x.prod(**kw), np.prod),
    ("var", lambda x, **kw: x.var(**kw), np.var),
    ("std", lambda x, **kw: x.std(**kw), np.std),
]
AXES = [None, 0, 1, 2, -1, (0, 2), (0, 1, 2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name,fn,ref", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reduction_forward(name, fn, ref, axis, keepdims, dtype):
    rng = np.random.default_rng(0)
    x = T.TensorType(dtype, (None, None, None))("x")
    xv = rng.uniform(0.5, 1.5, (2, 3, 4)).astype(dtype)
    out = function([x], fn(x, axis=axis, keepdims=keepdims))(xv)
    expected = ref(xv, axis=axis, keepdims=keepdims)
    assert isinstance(out, np.ndarray)
    assert out.shape == expected.shape and out.dtype == dtype
    np.testing.assert_allclose(out, expected, rtol=10 * RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [None, 0, (0, 2)], ids=str)
@pytest.mark.parametrize("name,fn,ref", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reduction_grad(name, fn, ref, axis, dtype):
    rng = np.random.default_rng(1)
    # distinct values, so max/min have a unique argument
    xv = rng.permutation(24).reshape(2, 3, 4) / 24.0 + 0.5
    verify_grad(lambda x: fn(x, axis=axis), [xv], dtype=dtype)
    verify_grad(lambda x: fn(x, axis=axis, keepdims=True) * x, [xv], dtype=dtype)


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint8", "bool"])
def test_integer_reductions_match_numpy_dtypes(dtype):
    x = T.TensorType(dtype, (None, None))("x")
    xv = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    f = function([x], [x.sum(axis=0), x.prod(axis=1), x.max(), x.min(axis=1), x.mean()])
    s, p, mx, mn, mean = f(xv)
    for got, want in [(s, np.sum(xv, axis=0)), (p, np.prod(xv, axis=1)), (mx, np.max(xv)),
                      (mn, np.min(xv, axis=1)), (mean, np.mean(xv))]:
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype, (got.dtype, want.dtype)


def test_any_all():
    x = T.imatrix("x")
    xv = np.array([[0, 1, 2], [0, 0, 3]], dtype="int32")
    a0, a1, anyall = function([x], [x.any(axis=0), x.all(axis=1), T.any(x)])(xv)
    np.testing.assert_array_equal(a0, xv.any(axis=0))
    np.testing.assert_array_equal(a1, xv.all(axis=1))
    assert anyall.dtype == np.bool_ and anyall.shape == () and bool(anyall)


@pytest.mark.parametrize("fn,ref", [(T.argmax, np.argmax), (T.argmin, np.argmin)])
@pytest.mark.parametrize("axis", [None, 0, 1, -1], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_argmin(fn, ref, axis, keepdims):
    rng = np.random.default_rng(2)
    x = T.dmatrix("x")
    xv = rng.standard_normal((4, 5))
    out = function([x], fn(x, axis=axis, keepdims=keepdims))(xv)
    expected = ref(xv, axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.int64 and out.shape == expected.shape


def test_argmax_has_no_gradient_but_does_not_block_others():
    x = T.dvector("x")
    cost = x.sum() + T.cast(T.argmax(x), "float64")
    g = function([x], T.grad(cost, x))(np.array([1.0, 3.0, 2.0]))
    np.testing.assert_array_equal(g, np.ones(3))


def test_reduction_axis_errors():
    x = T.dmatrix("x")
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        x.sum(axis=2)
    with pytest.raises(ValueError, match="repeated axis"):
        x.max(axis=(0, 0))


DOT_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((1, 3), (3, 1)),
              ((), (3,)), ((2, 3), ())]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs,ys", DOT_SHAPES, ids=str)
def test_dot_forward_and_grad(xs, ys, dtype):
    rng = np.random.default_rng(3)
    x = T.TensorType(dtype, (None,) * len(xs))("x")
    y = T.TensorType(dtype, (None,) * len(ys))("y")
    xv, yv = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ys).astype(dtype)
    out = function([x, y], T.dot(x, y))(xv, yv)
    expected = np.dot(xv, yv)
    assert out.shape == expected.shape and out.dtype == dtype
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    np.testing.assert_allclose(function([x, y], x @ y)(xv, yv) if x.ndim and y.ndim else out,
                               expected, rtol=1e-5)
    verify_grad(T.dot, [xv, yv], dtype=dtype)


def test_dot_mixed_dtypes_promote():
    x, y = T.fmatrix("x"), T.dmatrix("y")
    assert T.dot(x, y).dtype == "float64"
    i = T.imatrix("i")
    assert T.dot(i, x).dtype == "float64"
    assert T.dot(T.fvector("v"), x).dtype == "float32"
    out = function([i, x], T.dot(i, x))(np.eye(2, dtype="int32"), np.ones((2, 2), "float32"))
    assert out.dtype == np.float64


def test_outer():
    x, y = T.dvectors("x", "y")
    xv, yv = np.arange(3.0), np.arange(4.0)
    np.testing.assert_array_equal(function([x, y], T.outer(x, y))(xv, yv), np.outer(xv, yv))
    verify_grad(T.outer, [xv + 1, yv - 1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_prod_gradient_with_zeros(dtype):
    x = T.TensorType(dtype, (None, None))("x")
    xv = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 4.0]], dtype=dtype)
    g_rows = function([x], T.grad(x.prod(axis=1).sum(), x))(xv)
    np.testing.assert_array_equal(g_rows, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [8.0, 4.0, 2.0]])
    assert g_rows.dtype == dtype
    g_all = function([x], T.grad(x.prod(), x))(xv)
    np.testing.assert_array_equal(g_all, np.zeros((3, 3)))  # several zeros: all zero
    verify_grad(lambda a: a.prod(axis=0), [np.array([[0.0, 1.5], [2.0, -1.0], [0.5, 3.0]])],
                dtype=dtype)
