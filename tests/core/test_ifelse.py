"""ifelse: values, laziness (the untaken branch never runs), gradients, errors."""
import numpy as np
import pytest

import core.tensor as T
from core import function, shared
from core.gradient import verify_grad
from core.ifelse import IfElse, ifelse
from core.printing import Print

rng = np.random.default_rng(0)


def test_theano_tutorial_example():
    a, b = T.dmatrices("a", "b")
    x, y = T.dscalars("x", "y")
    z_lazy = ifelse(T.lt(x, y), T.mean(a), T.mean(b))
    f = function([a, b, x, y], z_lazy)
    va, vb = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    np.testing.assert_allclose(f(va, vb, 1, 2), va.mean())
    np.testing.assert_allclose(f(va, vb, 3, 2), vb.mean())
    assert any(isinstance(n.op, IfElse) for n in f.maker.fgraph.toposort())


def test_only_the_taken_branch_runs():
    ran = []
    x = T.dvector("x")
    c = T.iscalar("c")
    left = Print("left", global_fn=lambda op, v: ran.append("then"))(x).sum()
    right = Print("right", global_fn=lambda op, v: ran.append("else"))(x * 2).sum()
    f = function([c, x], ifelse(c, left, right))
    assert f(1, np.ones(3)) == 3.0 and ran == ["then"]
    assert f(0, np.ones(3)) == 6.0 and ran == ["then", "else"]


def test_untaken_branch_that_would_fail_is_not_run():
    x, y = T.dmatrices("x", "y")
    c = T.bscalar("c")
    f = function([c, x, y], ifelse(c, T.dot(x, y), x))
    bad = np.ones((2, 3))
    np.testing.assert_array_equal(f(0, bad, bad), bad)
    with pytest.raises(ValueError):
        f(1, bad, bad)


def test_several_outputs_nested_and_shared():
    w = shared(np.array([1.0, 2.0]), name="w")
    x = T.dvector("x")
    c1, c2 = T.iscalars("c1", "c2")
    inner = ifelse(c2, x * w, x - w)
    p, q = ifelse(c1, [inner, x.sum()], [x, w.sum()])
    f = function([c1, c2, x], [p, q])
    v = np.array([3.0, 4.0])
    r = f(1, 1, v)
    np.testing.assert_allclose(r[0], v * [1, 2]); assert r[1] == 7.0
    np.testing.assert_allclose(f(1, 0, v)[0], v - [1, 2])
    r = f(0, 1, v)
    np.testing.assert_allclose(r[0], v); assert r[1] == 3.0


def test_result_does_not_alias_input():
    x = T.dvector("x")
    f = function([x], ifelse(T.as_tensor_variable(1), x, x * 2))
    v = np.ones(2)
    out = f(v)
    out[0] = 9.0
    assert v[0] == 1.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("take", [0, 1])
def test_gradient(dtype, take):
    def fn(a, b):
        return ifelse(T.as_tensor_variable(take), T.tanh(a) * b, a ** 2 + b.sum())

    verify_grad(fn, [rng.normal(size=(2, 3)), rng.normal(size=(2, 3))], dtype=dtype)


def test_gradient_is_lazy_too():
    ran = []
    x = T.dvector("x")
    c = T.iscalar("c")
    heavy = Print("h", global_fn=lambda op, v: ran.append(1))(x) ** 3
    z = ifelse(c, heavy.sum(), x.sum())
    f = function([c, x], T.grad(z, x))
    np.testing.assert_allclose(f(0, np.array([2.0])), [1.0])
    assert ran == []
    np.testing.assert_allclose(f(1, np.array([2.0])), [12.0])
    assert ran


def test_errors():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="then branch"):
        ifelse(T.iscalar(), x, T.dmatrix())
    with pytest.raises(TypeError, match="scalar"):
        ifelse(x, x, x)
    with pytest.raises(ValueError, match="outputs"):
        ifelse(T.iscalar(), [x, x], [x])
    with pytest.raises(TypeError, match="dtype"):
        ifelse(T.iscalar(), x, T.fvector())


def test_hessian_and_rop_through_ifelse():
    x, v = T.dvectors("x", "v")
    c = T.iscalar("c")
    y = ifelse(c, T.tanh(x) * x, x ** 3)
    f = function([c, x], T.hessian(y.sum(), x))
    xv = np.array([0.3, -0.5])
    np.testing.assert_allclose(f(0, xv), np.diag(6 * xv))
    t = np.tanh(xv)
    np.testing.assert_allclose(f(1, xv), np.diag(2 * (1 - t ** 2) * (1 - t * xv)))
    r = function([c, x, v], T.Rop(y, x, v))
    np.testing.assert_allclose(r(0, xv, np.array([1.0, 2.0])), 3 * xv ** 2 * [1, 2])
