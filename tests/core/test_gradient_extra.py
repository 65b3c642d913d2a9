"""jacobian, hessian, Rop, Lop against finite differences, float32 and float64."""
import numpy as np
import pytest

import core.tensor as T
from core import function
from core.gradient import DisconnectedInputError
from core.scan import scan

rng = np.random.default_rng(0)
TOL = {"float32": dict(rtol=2e-3, atol=2e-3), "float64": dict(rtol=1e-6, atol=1e-7)}


def numeric_jacobian(f, x, eps=1e-6):
    x = np.asarray(x, dtype=np.float64)
    y0 = np.asarray(f(x))
    jac = np.zeros(y0.shape + x.shape)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        jac[(Ellipsis,) + idx] = (np.asarray(f(xp)) - np.asarray(f(xm))) / (2 * eps)
    return jac


def _fn(expr_fn, dtype):
    x = T.vector("x", dtype=dtype)
    f64 = T.dvector("x64")
    ref = function([f64], expr_fn(f64))
    return x, expr_fn(x), ref


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_jacobian_of_vector_expression(dtype):
    def expr(x):
        return T.tanh(x) * x.sum() + T.exp(x[::-1])

    x, y, ref = _fn(expr, dtype)
    J = function([x], T.jacobian(y, x))
    xv = rng.normal(size=4)
    got = J(xv.astype(dtype))
    assert got.shape == (4, 4) and got.dtype == dtype
    np.testing.assert_allclose(got, numeric_jacobian(ref, xv), **TOL[dtype])


def test_jacobian_matrix_expression_several_wrt_and_scalar():
    x = T.dvector("x")
    W = T.dmatrix("W")
    y = T.tanh(T.dot(x, W)) * 2  # shape (3,)
    Jx, JW = function([x, W], T.jacobian(y, [x, W]))(np.array([0.3, -0.2]), np.ones((2, 3)))
    xv, Wv = np.array([0.3, -0.2]), np.ones((2, 3))
    np.testing.assert_allclose(Jx, numeric_jacobian(lambda a: np.tanh(a @ Wv) * 2, xv), atol=1e-7)
    np.testing.assert_allclose(JW, numeric_jacobian(lambda a: np.tanh(xv @ a) * 2, Wv), atol=1e-7)
    M = T.dmatrix("M")
    JM = function([M], T.jacobian(T.sqr(M), M))(np.arange(4.0).reshape(2, 2))
    assert JM.shape == (2, 2, 2, 2)
    np.testing.assert_allclose(JM.reshape(4, 4), np.diag(2 * np.arange(4.0)))
    s = function([x], T.jacobian((x ** 2).sum(), x))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(s, [2.0, 4.0])


def test_jacobian_through_a_scan():
    x = T.dvector("x")
    h, _ = scan(lambda x_t, h: T.tanh(h * 0.5 + x_t), sequences=x,
                outputs_info=T.as_tensor_variable(np.asarray(0.1)))
    J = function([x], T.jacobian(h, x))
    xv = rng.normal(size=4)

    def ref(a):
        out, cur = [], 0.1
        for v in a:
            cur = np.tanh(cur * 0.5 + v)
            out.append(cur)
        return np.array(out)

    np.testing.assert_allclose(J(xv), numeric_jacobian(ref, xv), atol=1e-7)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_hessian(dtype):
    x = T.vector("x", dtype=dtype)
    A = rng.normal(size=(3, 3))
    cost = (x ** 3).sum() + T.dot(x, T.dot(T.constant(A.astype(dtype)), x)) + T.exp(x).prod()
    H = function([x], T.hessian(cost, x))
    xv = rng.normal(size=3) * 0.5
    ref = np.diag(6 * xv) + A + A.T + np.exp(xv.sum()) * np.ones((3, 3))
    np.testing.assert_allclose(H(xv.astype(dtype)), ref, **TOL[dtype])


def test_hessian_list_and_disconnected():
    x, y = T.dvectors("x", "y")
    cost = (x ** 2 * y).sum()
    with pytest.raises(DisconnectedInputError):  # d2/dy2: the gradient x**2 has no y in it
        T.hessian(cost, [x, y])
    H = T.hessian(cost, [x, y], disconnected_inputs="ignore")
    Hx, Hy = function([x, y], H)(np.ones(2), np.full(2, 3.0))
    np.testing.assert_allclose(Hx, 6 * np.eye(2))
    np.testing.assert_allclose(Hy, np.zeros((2, 2)))
    z = T.dvector("z")
    with pytest.raises(DisconnectedInputError):
        T.hessian((x ** 2).sum(), z)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rop_is_jacobian_times_vector(dtype):
    W = T.matrix("W", dtype=dtype)
    V = T.matrix("V", dtype=dtype)
    x = T.vector("x", dtype=dtype)
    y = T.tanh(T.dot(x, W))
    f = function([W, V, x], T.Rop(y, W, V))
    Wv, Vv, xv = rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    J = numeric_jacobian(lambda a: np.tanh(xv @ a), Wv)  # (3, 2, 3)
    expected = np.einsum("ijk,jk->i", J, Vv)
    np.testing.assert_allclose(f(*(a.astype(dtype) for a in (Wv, Vv, xv))), expected,
                               **TOL[dtype])


def test_rop_several_outputs_and_wrt():
    x, y, vx, vy = T.dvectors("x", "y", "vx", "vy")
    f1, f2 = x * y, T.sin(x)
    r1, r2 = T.Rop([f1, f2], [x, y], [vx, vy])
    g = function([x, y, vx, vy], [r1, r2])
    a, b, da, db = (rng.normal(size=3) for _ in range(4))
    o1, o2 = g(a, b, da, db)
    np.testing.assert_allclose(o1, da * b + a * db)
    np.testing.assert_allclose(o2, np.cos(a) * da)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lop_is_vector_times_jacobian(dtype):
    W = T.matrix("W", dtype=dtype)
    v = T.vector("v", dtype=dtype)
    x = T.vector("x", dtype=dtype)
    y = T.tanh(T.dot(x, W))
    f = function([W, v, x], T.Lop(y, W, v))
    Wv, vv, xv = rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=2)
    J = numeric_jacobian(lambda a: np.tanh(xv @ a), Wv)
    expected = np.einsum("i,ijk->jk", vv, J)
    np.testing.assert_allclose(f(*(a.astype(dtype) for a in (Wv, vv, xv))), expected,
                               **TOL[dtype])


def test_lop_several_outputs():
    x = T.dvector("x")
    u1, u2 = T.dvectors("u1", "u2")
    g = T.Lop([x ** 2, T.exp(x)], x, [u1, u2])
    a, b, c = rng.normal(size=3), rng.normal(size=3), rng.normal(size=3)
    np.testing.assert_allclose(function([x, u1, u2], g)(a, b, c), 2 * a * b + np.exp(a) * c)
