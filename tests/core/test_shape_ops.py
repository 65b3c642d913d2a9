"""Shape ops: shape, reshape, flatten, dimshuffle, transpose, addbroadcast."""
import numpy as np
import pytest

import core.tensor as T
from core import config, function
from core.gradient import verify_grad


# core semantics are checked on the reference backend (C kernels are tested against it)
pytestmark = pytest.mark.usefixtures("numpy_backend")


DTYPES = ["float32", "float64"]


def test_symbolic_shape_and_shape_i():
    x = T.dtensor3("x")
    xv = np.zeros((2, 3, 4))
    s, s1, size = function([x], [x.shape, x.shape[1], x.size])(xv)
    np.testing.assert_array_equal(s, [2, 3, 4])
    assert s.dtype == np.int64 and int(s1) == 3 and int(size) == 24
    known = T.tensor("float64", shape=(5, None))
    assert isinstance(T.shape_i(known, 0), T.TensorConstant)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("new_shape", [(6, 4), (4, -1), (24,), (2, 3, 2, 2), (-1,)], ids=str)
def test_reshape_forward_and_grad(new_shape, dtype):
    x = T.TensorType(dtype, (None, None, None))("x")
    xv = np.arange(24, dtype=dtype).reshape(2, 3, 4)
    out = function([x], x.reshape(new_shape))(xv)
    np.testing.assert_array_equal(out, xv.reshape(new_shape))
    assert out.dtype == dtype
    verify_grad(lambda a: a.reshape(new_shape), [xv / 24.0], dtype=dtype)


def test_reshape_symbolic_shape():
    x, y = T.dmatrix("x"), T.dvector("y")
    out = function([x, y], y.reshape(x.shape))(np.zeros((2, 3)), np.arange(6.0))
    np.testing.assert_array_equal(out, np.arange(6.0).reshape(2, 3))
    n = T.lscalar("n")
    out = function([y, n], y.reshape((n, -1)))(np.arange(6.0), 3)
    assert out.shape == (3, 2)


def test_reshape_static_shape_inference_and_errors():
    x = T.tensor("float64", shape=(2, 3, 4))
    assert x.reshape((6, -1)).type.shape == (6, 4)
    with pytest.raises(ValueError, match=r"cannot reshape \(2, 3, 4\) to \(5, 5\)"):
        x.reshape((5, 5))
    y = T.dmatrix("y")
    f = function([y], y.reshape((5, -1)))
    with pytest.raises(ValueError, match=r"cannot reshape an array of shape \(2, 3\)"):
        f(np.zeros((2, 3)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_flatten(ndim, dtype):
    x = T.TensorType(dtype, (None,) * 4)("x")
    xv = np.arange(120, dtype=dtype).reshape(2, 3, 4, 5)
    out = function([x], x.flatten(ndim))(xv)
    np.testing.assert_array_equal(out, xv.reshape(xv.shape[:ndim - 1] + (-1,)))
    verify_grad(lambda a: T.flatten(a, ndim), [xv / 120.0], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pattern,ref", [
    ((1, 0), lambda v: v.T),
    (("x", 0, 1), lambda v: v[None]),
    ((0, "x", 1), lambda v: v[:, None]),
    ((1, "x", 0, "x"), lambda v: v.T[:, None, :, None]),
], ids=str)
def test_dimshuffle(pattern, ref, dtype):
    x = T.TensorType(dtype, (None, None))("x")
    xv = np.arange(6, dtype=dtype).reshape(2, 3)
    y = x.dimshuffle(*pattern)
    assert y.type.broadcastable == tuple(p == "x" for p in pattern)
    np.testing.assert_array_equal(function([x], y)(xv), ref(xv))
    verify_grad(lambda a: a.dimshuffle(pattern), [xv + 0.5], dtype=dtype)


def test_dimshuffle_drops_broadcastable_axes_only():
    r = T.drow("r")
    v = r.dimshuffle(1)
    assert v.type.shape == (None,)
    np.testing.assert_array_equal(function([r], v)(np.array([[1.0, 2.0]])), [1.0, 2.0])
    verify_grad(lambda a: T.addbroadcast(a, 0).dimshuffle(1) * 2, [np.array([[1.0, 2.0]])])
    with pytest.raises(ValueError, match="only broadcastable axes"):
        T.dmatrix("m").dimshuffle(1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_transpose_forms(dtype):
    x = T.TensorType(dtype, (None, None, None))("x")
    xv = np.arange(24, dtype=dtype).reshape(2, 3, 4)
    a, b, c = function([x], [x.T, x.transpose(1, 0, 2), T.transpose(x, (2, 0, 1))])(xv)
    np.testing.assert_array_equal(a, xv.T)
    np.testing.assert_array_equal(b, xv.transpose(1, 0, 2))
    np.testing.assert_array_equal(c, xv.transpose(2, 0, 1))
    verify_grad(lambda v: v.transpose(2, 0, 1), [xv / 24.0], dtype=dtype)


def test_addbroadcast_unbroadcast_patternbroadcast():
    m = T.dmatrix("m")
    r = T.addbroadcast(m, 0)
    assert r.type.broadcastable == (True, False)
    assert T.unbroadcast(r, 0).type.broadcastable == (False, False)
    assert T.patternbroadcast(m, (False, True)).type.broadcastable == (False, True)
    assert T.addbroadcast(T.drow("r"), 0).owner is None  # already broadcastable: no-op
    f = function([m], r * 2)
    np.testing.assert_array_equal(f(np.ones((1, 3))), 2 * np.ones((1, 3)))
    with pytest.raises(ValueError, match="declared broadcastable but has size 3"):
        f(np.ones((3, 3)))
    with pytest.raises(ValueError, match="static size 4"):
        T.addbroadcast(T.tensor("float64", shape=(4, None)), 0)


def test_output_views_of_inputs_are_copied():
    x = T.dmatrix("x")
    xv = np.arange(6.0).reshape(2, 3)
    out = function([x], x.T)(xv)
    out[0, 0] = 100.0
    assert xv[0, 0] == 0.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_make_vector_forward_and_grad(dtype):
    a, b = T.TensorType(dtype, ())("a"), T.TensorType(dtype, ())("b")
    vec = T.stack([a, b * 2])
    assert isinstance(vec.owner.op, T.MakeVector) and vec.type.shape == (2,)
    out = function([a, b], vec)(np.asarray(1.5, dtype), np.asarray(-1.0, dtype))
    np.testing.assert_array_equal(out, [1.5, -2.0])
    assert out.dtype == dtype
    verify_grad(lambda p, q: T.stack([p * q, p - q]), [np.array(0.3), np.array(-1.2)],
                dtype=dtype)


def test_zeros_and_ones_with_symbolic_shape():
    x = T.dmatrix("x")
    z, o = function([x], [T.zeros(x.shape[0]), T.ones((x.shape[1], 2), dtype="int32")])(
        np.empty((3, 4)))
    np.testing.assert_array_equal(z, np.zeros(3))
    np.testing.assert_array_equal(o, np.ones((4, 2), dtype="int32"))
    assert o.dtype == np.int32 and z.dtype == np.dtype(config.floatX)
