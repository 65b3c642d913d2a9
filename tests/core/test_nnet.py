"""T.nnet: activations, softmax family, crossentropies."""
import numpy as np
import pytest
import scipy.special

import core.tensor as T
from core import function
from core.gradient import verify_grad


# core semantics are checked on the reference backend (C kernels are tested against it)
pytestmark = pytest.mark.usefixtures("numpy_backend")


DTYPES = ["float32", "float64"]
RTOL = {"float32": 1e-5, "float64": 1e-12}


def _ref_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_and_log_softmax(axis, dtype):
    rng = np.random.default_rng(0)
    x = T.TensorType(dtype, (None, None))("x")
    xv = rng.standard_normal((3, 5)).astype(dtype)
    sm, lsm = function([x], [T.nnet.softmax(x, axis=axis), T.nnet.log_softmax(x, axis=axis)])(xv)
    np.testing.assert_allclose(sm, _ref_softmax(xv.astype("float64"), axis), rtol=10 * RTOL[dtype])
    np.testing.assert_allclose(lsm, scipy.special.log_softmax(xv.astype("float64"), axis=axis),
                               rtol=10 * RTOL[dtype], atol=10 * RTOL[dtype])
    assert sm.dtype == dtype and lsm.dtype == dtype
    verify_grad(lambda a: T.nnet.softmax(a, axis=axis), [xv], dtype=dtype)
    verify_grad(lambda a: T.nnet.log_softmax(a, axis=axis), [xv], dtype=dtype)


def test_softmax_is_stable_for_large_inputs():
    x = T.dmatrix("x")
    xv = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -1000.0]])
    sm, lsm = function([x], [T.nnet.softmax(x), T.nnet.log_softmax(x)])(xv)
    assert np.all(np.isfinite(sm)) and np.all(np.isfinite(lsm))
    np.testing.assert_allclose(sm, _ref_softmax(xv, -1))


def test_softmax_second_order_gradient():
    verify_grad(lambda a: T.grad((T.nnet.softmax(a) ** 2).sum(), a),
                [np.random.default_rng(1).standard_normal((2, 4))])


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_crossentropy(dtype):
    rng = np.random.default_rng(2)
    o, t = T.TensorType(dtype, (None,))("o"), T.TensorType(dtype, (None,))("t")
    ov = rng.uniform(0.05, 0.95, 6).astype(dtype)
    tv = (rng.uniform(size=6) > 0.5).astype(dtype)
    out = function([o, t], T.nnet.binary_crossentropy(o, t))(ov, tv)
    np.testing.assert_allclose(out, -(tv * np.log(ov) + (1 - tv) * np.log(1 - ov)),
                               rtol=10 * RTOL[dtype])
    assert out.dtype == dtype
    verify_grad(lambda a: T.nnet.binary_crossentropy(a, T.constant(tv)), [ov], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_binary_crossentropy_is_stable(dtype):
    x, t = T.TensorType(dtype, (None,))("x"), T.TensorType(dtype, (None,))("t")
    xv = np.array([-800.0, -3.0, 0.0, 2.0, 800.0], dtype=dtype)
    tv = np.array([1.0, 0.0, 1.0, 1.0, 0.0], dtype=dtype)
    out = function([x, t], T.nnet.sigmoid_binary_crossentropy(x, t))(xv, tv)
    x64 = xv.astype("float64")
    np.testing.assert_allclose(out, np.logaddexp(0, x64) - tv * x64, rtol=1e-6)
    verify_grad(lambda a: T.nnet.sigmoid_binary_crossentropy(a, T.constant(tv[1:4])),
                [xv[1:4]], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_categorical_crossentropy_one_hot_and_integer_labels(dtype):
    rng = np.random.default_rng(3)
    p = T.TensorType(dtype, (None, None))("p")
    onehot, labels = T.TensorType(dtype, (None, None))("onehot"), T.lvector("labels")
    pv = _ref_softmax(rng.standard_normal((4, 3)), -1).astype(dtype)
    lv = np.array([0, 2, 1, 2])
    ov = np.eye(3, dtype=dtype)[lv]
    f = function([p, onehot, labels], [T.nnet.categorical_crossentropy(p, onehot),
                                       T.nnet.categorical_crossentropy(p, labels)])
    a, b = f(pv, ov, lv)
    expected = -np.log(pv[np.arange(4), lv])
    np.testing.assert_allclose(a, expected, rtol=10 * RTOL[dtype])
    np.testing.assert_allclose(b, expected, rtol=10 * RTOL[dtype])
    assert a.dtype == dtype and b.dtype == dtype
    verify_grad(lambda q: T.nnet.categorical_crossentropy(q, T.constant(lv)), [pv], dtype=dtype)
    verify_grad(lambda q: T.nnet.categorical_crossentropy(q, T.constant(ov)), [pv], dtype=dtype)
    verify_grad(lambda z: T.nnet.categorical_crossentropy(T.nnet.softmax(z), T.constant(lv)),
                [rng.standard_normal((4, 3))], dtype=dtype)


def test_categorical_crossentropy_errors():
    p, lv = T.dmatrix("p"), T.lvector("labels")
    f = function([p, lv], T.nnet.categorical_crossentropy(p, lv))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        f(np.full((2, 3), 1 / 3), np.array([0, 3]))
    with pytest.raises(ValueError, match="2 rows of probabilities but 3 labels"):
        f(np.full((2, 3), 1 / 3), np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="integer vector of labels"):
        T.nnet.categorical_crossentropy(p, T.dvector("y"))
    with pytest.raises(TypeError, match="one-hot"):
        T.nnet.categorical_crossentropy(p, T.dtensor3("y"))


def test_sigmoid_softplus_do_not_overflow():
    x = T.dvector("x")
    xv = np.array([-1000.0, -20.0, 0.0, 20.0, 1000.0])
    s, sp = function([x], [T.nnet.sigmoid(x), T.nnet.softplus(x)])(xv)
    np.testing.assert_allclose(s, scipy.special.expit(xv), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(sp, np.logaddexp(0, xv), rtol=1e-12)
