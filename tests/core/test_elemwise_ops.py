"""Every elementwise op: forward values against numpy and gradients against finite differences."""
import numpy as np
import pytest
import scipy.special

import core.tensor as T
from core import config, function
from core.gradient import verify_grad


# core semantics are checked on the reference backend (C kernels are tested against it)
pytestmark = pytest.mark.usefixtures("numpy_backend")


DTYPES = ["float32", "float64"]
RTOL = {"float32": 1e-5, "float64": 1e-12}


def _any(rng, shape):
    return rng.uniform(-2.0, 2.0, shape)


def _pos(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def _away_from_zero(rng, shape):
    return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def _small(rng, shape):
    return rng.uniform(-0.8, 0.8, shape)


# name, symbolic function, numpy function, input domains, differentiable
UNARY = [
    ("neg", lambda x: -x, np.negative, _any, True),
    ("abs", T.abs, np.abs, _away_from_zero, True),
    ("exp", T.exp, np.exp, _any, True),
    ("log", T.log, np.log, _pos, True),
    ("log1p", T.log1p, np.log1p, _pos, True),
    ("expm1", T.expm1, np.expm1, _any, True),
    ("sqrt", T.sqrt, np.sqrt, _pos, True),
    ("sqr", T.sqr, np.square, _any, True),
    ("sign", T.sign, np.sign, _away_from_zero, True),
    ("tanh", T.tanh, np.tanh, _any, True),
    ("sin", T.sin, np.sin, _any, True),
    ("cos", T.cos, np.cos, _any, True),
    ("tan", T.tan, np.tan, _small, True),
    ("arctan", T.arctan, np.arctan, _any, True),
    ("reciprocal", T.reciprocal, np.reciprocal, _away_from_zero, True),
    ("log2", T.log2, np.log2, _pos, True),
    ("log10", T.log10, np.log10, _pos, True),
    ("floor", T.floor, np.floor, _any, True),
    ("ceil", T.ceil, np.ceil, _any, True),
    ("round", T.round, np.round, _any, True),
    ("sigmoid", T.nnet.sigmoid, scipy.special.expit, _any, True),
    ("softplus", T.nnet.softplus, lambda x: np.logaddexp(0, x), _any, True),
    ("erf", T.erf, scipy.special.erf, _any, True),
    ("relu", T.nnet.relu, lambda x: np.maximum(x, 0), _away_from_zero, True),
    ("leaky_relu", lambda x: T.nnet.relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x),
     _away_from_zero, True),
]

BINARY = [
    ("add", lambda x, y: x + y, np.add, (_any, _any), True),
    ("sub", lambda x, y: x - y, np.subtract, (_any, _any), True),
    ("mul", lambda x, y: x * y, np.multiply, (_any, _any), True),
    ("true_div", lambda x, y: x / y, np.true_divide, (_any, _away_from_zero), True),
    ("pow", lambda x, y: x ** y, np.power, (_pos, _any), True),
    ("maximum", T.maximum, np.maximum, (_any, _any), True),
    ("minimum", T.minimum, np.minimum, (_any, _any), True),
    ("mod", lambda x, y: x % y, np.mod, (_any, _away_from_zero), False),
    ("floor_div", lambda x, y: x // y, np.floor_divide, (_any, _away_from_zero), False),
]

COMPARE = [
    ("lt", lambda x, y: x < y, np.less),
    ("le", lambda x, y: x <= y, np.less_equal),
    ("gt", lambda x, y: x > y, np.greater),
    ("ge", lambda x, y: x >= y, np.greater_equal),
    ("eq", T.eq, np.equal),
    ("neq", T.neq, np.not_equal),
]


def _sym(dtype, ndim, name):
    return T.TensorType(dtype, (None,) * ndim)(name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,fn,ref,domain,_", UNARY, ids=[u[0] for u in UNARY])
def test_unary_forward(name, fn, ref, domain, _, dtype):
    rng = np.random.default_rng(0)
    x = _sym(dtype, 2, "x")
    value = domain(rng, (3, 4)).astype(dtype)
    out = function([x], fn(x))(value)
    expected = ref(value)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, expected, rtol=RTOL[dtype], atol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,fn,ref,domain,differentiable", UNARY, ids=[u[0] for u in UNARY])
def test_unary_grad(name, fn, ref, domain, differentiable, dtype):
    rng = np.random.default_rng(1)
    verify_grad(fn, [domain(rng, (2, 3))], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,fn,ref,domains,_", BINARY, ids=[b[0] for b in BINARY])
def test_binary_forward(name, fn, ref, domains, _, dtype):
    rng = np.random.default_rng(2)
    x, y = _sym(dtype, 2, "x"), _sym(dtype, 2, "y")
    xv, yv = (d(rng, (3, 4)).astype(dtype) for d in domains)
    out = function([x, y], fn(x, y))(xv, yv)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, ref(xv, yv), rtol=RTOL[dtype], atol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,fn,ref,domains,differentiable",
                         [b for b in BINARY if b[4]], ids=[b[0] for b in BINARY if b[4]])
def test_binary_grad(name, fn, ref, domains, differentiable, dtype):
    rng = np.random.default_rng(3)
    verify_grad(fn, [d(rng, (2, 3)) for d in domains], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,fn,ref,domains,differentiable", BINARY, ids=[b[0] for b in BINARY])
def test_binary_broadcasting_row_and_col(name, fn, ref, domains, differentiable, dtype):
    rng = np.random.default_rng(4)
    row = T.TensorType(dtype, (1, None))("row")
    col = T.TensorType(dtype, (None, 1))("col")
    rv, cv = domains[0](rng, (1, 4)).astype(dtype), domains[1](rng, (3, 1)).astype(dtype)
    out = function([row, col], fn(row, col))(rv, cv)
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out, ref(rv, cv), rtol=RTOL[dtype], atol=RTOL[dtype])
    if differentiable:
        verify_grad(lambda r, c: fn(T.addbroadcast(r, 0), T.addbroadcast(c, 1)),
                    [rv, cv], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_grad_through_broadcasting_sums_over_broadcast_axes(dtype):
    rng = np.random.default_rng(5)
    m = T.TensorType(dtype, (None, None))("m")
    r = T.TensorType(dtype, (1, None))("r")
    v = T.TensorType(dtype, (None,))("v")
    expr = (m * r + v) ** 2
    gm, gr, gv = T.grad(expr.sum(), [m, r, v])
    assert gr.type.shape[0] == 1 and gv.ndim == 1
    mv, rv, vv = (rng.uniform(-1, 1, s).astype(dtype) for s in ((3, 4), (1, 4), (4,)))
    outs = function([m, r, v], [gm, gr, gv])(mv, rv, vv)
    inner = 2 * (mv * rv + vv)
    for got, want in zip(outs, [inner * rv, (inner * mv).sum(0, keepdims=True), inner.sum(0)]):
        np.testing.assert_allclose(got, want, rtol=1e-5)
        assert got.dtype == dtype


@pytest.mark.parametrize("name,fn,ref", COMPARE, ids=[c[0] for c in COMPARE])
@pytest.mark.parametrize("dtype", ["int32", "float32", "float64"])
def test_comparisons(name, fn, ref, dtype):
    rng = np.random.default_rng(6)
    x, y = _sym(dtype, 1, "x"), _sym(dtype, 1, "y")
    xv = rng.integers(-2, 3, 20).astype(dtype)
    yv = rng.integers(-2, 3, 20).astype(dtype)
    out = function([x, y], fn(x, y))(xv, yv)
    assert out.dtype == np.bool_
    np.testing.assert_array_equal(out, ref(xv, yv))


def test_logical_and_bitwise_ops():
    a, b = T.bvector("a"), T.bvector("b")
    av = np.array([0, 1, 5, -3], dtype="int8")
    bv = np.array([1, 1, 3, 2], dtype="int8")
    f = function([a, b], [a & b, a | b, a ^ b, ~a])
    for got, want in zip(f(av, bv), [av & bv, av | bv, av ^ bv, ~av]):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == np.int8
    p, q = T.TensorType("bool", (None,))("p"), T.TensorType("bool", (None,))("q")
    pv, qv = np.array([True, True, False, False]), np.array([True, False, True, False])
    g = function([p, q], [T.and_(p, q), T.or_(p, q), T.xor(p, q), T.invert(p)])
    for got, want in zip(g(pv, qv), [pv & qv, pv | qv, pv ^ qv, ~pv]):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == np.bool_


@pytest.mark.parametrize("dtype", DTYPES)
def test_switch_forward_and_grad(dtype):
    rng = np.random.default_rng(7)
    c = T.TensorType("bool", (None, None))("c")
    x, y = _sym(dtype, 2, "x"), _sym(dtype, 2, "y")
    cv = rng.uniform(size=(3, 4)) > 0.5
    xv, yv = (rng.uniform(-1, 1, (3, 4)).astype(dtype) for _ in range(2))
    out = function([c, x, y], T.switch(c, x, y))(cv, xv, yv)
    np.testing.assert_array_equal(out, np.where(cv, xv, yv))
    assert out.dtype == dtype
    av = _away_from_zero(rng, (3, 4))  # no finite-difference step across the jump at 0
    verify_grad(lambda a, b: T.switch(T.gt(a, 0), a * b, b), [av, yv], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_forward_and_grad(dtype):
    rng = np.random.default_rng(8)
    x = _sym(dtype, 1, "x")
    xv = np.array([-2.0, -0.7, 0.1, 0.6, 1.5], dtype=dtype)
    out = function([x], T.clip(x, -0.5, 0.5))(xv)
    np.testing.assert_array_equal(out, np.clip(xv, -0.5, 0.5))
    assert out.dtype == dtype
    verify_grad(lambda a: T.clip(a, -0.5, 0.5), [xv], dtype=dtype)
    verify_grad(lambda a: a.clip(-1.0, 1.0) * a, [rng.uniform(-2, 2, 6)], dtype=dtype)
    # symbolic bounds get the gradient where x lies beyond them
    verify_grad(lambda a, lo, hi: T.clip(a, lo, hi), [xv, np.array(-0.5), np.array(0.5)],
                dtype=dtype)


@pytest.mark.parametrize("src,dst", [("float64", "float32"), ("float32", "float64"),
                                     ("int32", "float32"), ("float64", "int32"),
                                     ("int64", "int8"), ("float32", "bool")])
def test_cast(src, dst):
    x = _sym(src, 1, "x")
    xv = np.array([0, 1.5, -2.7, 3], dtype=src)
    out = function([x], T.cast(x, dst))(xv)
    assert out.dtype == dst
    np.testing.assert_array_equal(out, xv.astype(dst))


@pytest.mark.parametrize("dtype", DTYPES)
def test_cast_grad(dtype):
    other = "float64" if dtype == "float32" else "float32"
    # Through float32, finite differences need float32-sized steps and tolerances.
    verify_grad(lambda a: T.cast(a, other) * 2, [np.array([0.5, -1.0, 2.0])], dtype=dtype,
                eps=1e-2, abs_tol=1e-3, rel_tol=1e-3)


def test_cast_floatx_and_astype():
    x = T.dvector("x")
    assert x.astype("float32").dtype == "float32"
    assert T.cast(x, "floatX").dtype == config.floatX
    assert T.cast(x, "float64") is x


@pytest.mark.parametrize("dtype", DTYPES)
def test_zeros_like_ones_like_fill_alloc(dtype):
    x = _sym(dtype, 2, "x")
    xv = np.arange(6, dtype=dtype).reshape(2, 3)
    n = T.lscalar("n")
    f = function([x, n], [T.zeros_like(x), T.ones_like(x), T.fill(x, 7.0), T.alloc(
        T.constant(np.asarray(2.5, dtype=dtype)), n, 3)])
    z, o, s, a = f(xv, 4)
    np.testing.assert_array_equal(z, np.zeros_like(xv))
    np.testing.assert_array_equal(o, np.ones_like(xv))
    np.testing.assert_array_equal(s, np.full_like(xv, 7.0))
    np.testing.assert_array_equal(a, np.full((4, 3), 2.5, dtype=dtype))
    assert {z.dtype, o.dtype, s.dtype, a.dtype} == {np.dtype(dtype)}


@pytest.mark.parametrize("dtype", DTYPES)
def test_alloc_grad(dtype):
    verify_grad(lambda v: T.alloc(v, 3, 4), [np.array([0.5, -1.0, 2.0, 1.0])], dtype=dtype)
    verify_grad(lambda v: T.alloc(T.addbroadcast(v, 0), 2, 3, 4),
                [np.array([[0.5, -1.0, 2.0, 1.0]])], dtype=dtype)


def test_alloc_rejects_size_one_axis_not_declared_broadcastable():
    v = T.dmatrix("v")
    f = function([v], T.alloc(v, 3, 4))
    with pytest.raises(ValueError, match="not declared broadcastable"):
        f(np.ones((1, 4)))
    np.testing.assert_array_equal(f(np.ones((3, 4))), np.ones((3, 4)))


@pytest.mark.parametrize("dtype,out", [("int8", "float32"), ("uint8", "float32"),
                                       ("int16", "float32"), ("int32", "float64"),
                                       ("bool", "float32")])
def test_float_ops_on_integers_compute_in_the_output_precision(dtype, out):
    x = T.TensorType(dtype, (None,))("x")
    xv = np.array([0, 1, 3, 5, 7], dtype=dtype)
    f = function([x], [T.exp(x), T.sqrt(x), T.nnet.sigmoid(x), T.log1p(x)])
    refs = [np.exp(xv.astype(out)), np.sqrt(xv.astype(out)), 1 / (1 + np.exp(-xv.astype(out))),
            np.log1p(xv.astype(out))]
    for got, want in zip(f(xv), refs):
        assert got.dtype == out
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_numpy_arrays_on_the_left_build_graphs():
    x = T.dvector("x")
    expr = np.full(3, 2.0) * x + np.arange(3.0)
    assert isinstance(expr, T.TensorVariable)
    np.testing.assert_allclose(function([x], expr)(np.ones(3)), [2.0, 3.0, 4.0])
