"""Indexing: basic, advanced, boolean masks, set/inc_subtensor: values, shapes, gradients."""
import numpy as np
import pytest

import core.tensor as T
from core import function
from core.gradient import verify_grad
from core.tensor.subtensor import (AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor,
                                   Subtensor)

A = np.arange(60, dtype="float64").reshape(3, 4, 5)

BASIC = [
    lambda x: x[1],
    lambda x: x[-1, 1:3],
    lambda x: x[1:3, ::2],
    lambda x: x[::-1, :, ::-2],
    lambda x: x[None, 0, None, :, -1],
    lambda x: x[..., 2],
    lambda x: x[1, ..., None],
    lambda x: x[:, -3:-1, 4:0:-2],
    lambda x: x[2, 3, 4],
    lambda x: x[5:, :],
    lambda x: x[()],
]

ADVANCED = [
    lambda x: x[[0, 2, 2]],
    lambda x: x[:, [1, 3], 2],
    lambda x: x[[0, 1], :, [1, 2]],
    lambda x: x[[[0], [2]], [1, 3]],
    lambda x: x[1, [0, 0, 3]],
    lambda x: x[:, [3, -1], None, [0, 1]],
    lambda x: x[..., [4, 0]],
    lambda x: x[np.array([True, False, True])],
    lambda x: x[:, np.array([True, False, True, True])],
]


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
@pytest.mark.parametrize("fn", BASIC + ADVANCED)
def test_forward_matches_numpy(fn, dtype):
    x = T.tensor(dtype, (None, None, None), "x")
    out = fn(x)
    expected = fn(A.astype(dtype))
    got = function([x], out)(A.astype(dtype))
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == expected.dtype
    assert out.ndim == expected.ndim
    for s, e in zip(out.type.shape, np.shape(expected)):
        assert s is None or s == e


@pytest.mark.parametrize("fn", BASIC + ADVANCED)
def test_static_shapes_when_input_shape_known(fn):
    x = T.tensor("float64", A.shape, "x")
    assert fn(x).type.shape == np.shape(fn(A))


def test_basic_is_a_view_and_advanced_a_copy():
    x = T.dmatrix()
    assert isinstance(x[1:].owner.op, Subtensor) and x[1:].owner.op.view_map == {0: [0]}
    assert isinstance(x[[1]].owner.op, AdvancedSubtensor) and not x[[1]].owner.op.view_map
    a = np.ones((3, 3))
    out = function([x], x[1:])(a)
    out[...] = 7  # the function copies outputs that alias inputs
    assert np.all(a == 1)


def test_symbolic_indices_and_bounds():
    x, i, j, k = T.dmatrix("x"), T.iscalar("i"), T.lscalar("j"), T.iscalar("k")
    f = function([x, i, j, k], [x[i], x[i:j, ::k], x[:, -j], x[::-k, i]])
    a = np.arange(30.0).reshape(5, 6)
    for got, exp in zip(f(a, 1, 4, 2), [a[1], a[1:4, ::2], a[:, -4], a[::-2, 1]]):
        np.testing.assert_array_equal(got, exp)
    idx = T.lvector("idx")
    np.testing.assert_array_equal(function([x, idx], x[idx, 1:])(a, [4, 0, 4]), a[[4, 0, 4], 1:])


def test_boolean_mask_symbolic():
    x = T.dmatrix("x")
    out = x[x > 3]
    assert out.type.shape == (None,)
    a = np.random.default_rng(0).normal(size=(4, 5)) * 5
    np.testing.assert_array_equal(function([x], out)(a), a[a > 3])
    np.testing.assert_array_equal(function([x], x[x[:, 0] > 0])(a), a[a[:, 0] > 0])


def test_shape_indexing():
    x = T.dtensor3("x")
    a = np.zeros((2, 3, 4))
    assert isinstance(x.shape[1].owner.op, T.Shape_i)
    f = function([x], [x.shape[:2], x.shape[-1], x.shape[::-1]])
    got = f(a)
    np.testing.assert_array_equal(got[0], [2, 3])
    assert got[1] == 4
    np.testing.assert_array_equal(got[2], [4, 3, 2])
    assert x.shape[:2].type.shape == (2,)


def test_set_and_inc_subtensor_values():
    x, y = T.dmatrix("x"), T.dvector("y")
    a = np.arange(12.0).reshape(3, 4)
    v = np.array([10.0, 20.0, 30.0])
    f = function([x, y], [T.set_subtensor(x[:, 1], y), T.inc_subtensor(x[:, 1], y),
                          T.set_subtensor(x[1:, ::2], 0.5), T.inc_subtensor(x[-1], 1)])
    got = f(a, v)
    exp = [a.copy() for _ in range(4)]
    exp[0][:, 1] = v
    exp[1][:, 1] += v
    exp[2][1:, ::2] = 0.5
    exp[3][-1] += 1
    for g, e in zip(got, exp):
        np.testing.assert_array_equal(g, e)
    np.testing.assert_array_equal(a, np.arange(12.0).reshape(3, 4))  # input untouched
    via_flag = T.inc_subtensor(x[:, 1], y, set_instead_of_inc=True)
    np.testing.assert_array_equal(function([x, y], via_flag)(a, v), exp[0])


def test_inc_subtensor_repeated_indices_accumulate():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    idx = T.lvector("idx")
    a = np.zeros((3, 2))
    v = np.arange(8.0).reshape(4, 2)
    inc = function([x, y, idx], T.inc_subtensor(x[idx], y))(a, v, [0, 2, 0, 0])
    exp = a.copy()
    np.add.at(exp, [0, 2, 0, 0], v)
    np.testing.assert_array_equal(inc, exp)
    assert isinstance(T.inc_subtensor(x[idx], y).owner.op, AdvancedIncSubtensor)
    out = function([x, y, idx], T.set_subtensor(x[idx], y))(a, v[:2], [2, 1])
    np.testing.assert_array_equal(out, [[0, 0], [2, 3], [0, 1]])
    m = function([x], T.set_subtensor(x[x > 0.5], 0.0))(np.array([[1.0, 0.2], [0.7, 0.1]]))
    np.testing.assert_array_equal(m, [[0, 0.2], [0, 0.1]])


def _grad_cases():
    rng = np.random.default_rng(1)
    idx = np.array([0, 2, 0, 1])
    mask = np.array([[True, False, True, True], [False, False, True, False], [True] * 4])
    return [
        (lambda x: x[1:3, ::-2] * 2, [rng.normal(size=(4, 5))]),
        (lambda x: x[None, -1, 1:4:2], [rng.normal(size=(4, 5))]),
        (lambda x: x[idx] ** 2, [rng.normal(size=(3, 4))]),
        (lambda x: x[:, [1, 1, 3]] * x[:, [0, 2, 3]], [rng.normal(size=(3, 4))]),
        (lambda x: x[mask], [rng.normal(size=(3, 4))]),
        (lambda x, y: T.set_subtensor(x[1:, 2], y) ** 2, [rng.normal(size=(3, 4)),
                                                          rng.normal(size=(2,))]),
        (lambda x, y: T.inc_subtensor(x[:, 1:3], y) ** 2, [rng.normal(size=(3, 4)),
                                                           rng.normal(size=(3, 2))]),
        (lambda x, y: T.inc_subtensor(x[idx], y) ** 2, [rng.normal(size=(3, 4)),
                                                        rng.normal(size=(4, 4))]),
        (lambda x, y: T.set_subtensor(x[[2, 0]], y) ** 2, [rng.normal(size=(3, 4)),
                                                           rng.normal(size=(2, 4))]),
        (lambda x, y: T.inc_subtensor(x[0], y.sum()) * x, [rng.normal(size=(3, 4)),
                                                          rng.normal(size=(2,))]),
    ]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", range(10))
def test_gradients(case, dtype):
    fn, points = _grad_cases()[case]
    verify_grad(fn, points, dtype=dtype)


def test_inc_subtensor_broadcast_value_gradient():
    x = T.dmatrix("x")
    r = T.TensorType("float64", (1, None))("r")
    out = T.inc_subtensor(x[1:], r)
    g = T.grad((out * np.arange(12.0).reshape(3, 4)).sum(), r)
    got = function([x, r], g)(np.zeros((3, 4)), np.ones((1, 4)))
    np.testing.assert_array_equal(got, [np.arange(12.0).reshape(3, 4)[1:].sum(axis=0)])


def test_errors():
    x = T.dmatrix("x")
    with pytest.raises(IndexError, match="too many indices"):
        x[1, 2, 3]
    with pytest.raises(TypeError, match="integer scalars"):
        x[1.5]
    with pytest.raises(TypeError, match="integers or booleans"):
        x[T.dvector()]
    with pytest.raises(IndexError, match="out of bounds"):
        T.tensor("float64", (3, 4))[3]
    with pytest.raises(ValueError, match="step cannot be zero"):
        x[::0]
    with pytest.raises(TypeError, match="indexed tensor"):
        T.set_subtensor(x, 1.0)
    with pytest.raises(TypeError, match="dtype float64"):
        T.set_subtensor(T.imatrix()[0], T.dvector())
    with pytest.raises(TypeError, match="dtype int32"):
        T.inc_subtensor(T.imatrix()[0], 1.5)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        T.set_subtensor(T.tensor("float64", (3, 4))[0], T.tensor("float64", (3,)))
    f = function([x], x[5])
    with pytest.raises(IndexError, match="test_subtensor.py"):
        f(np.zeros((2, 2)))
    v = T.dmatrix("v")
    g = function([x, v], T.set_subtensor(x[:2], v))
    with pytest.raises(ValueError, match="declared of size 1"):
        g(np.zeros((3, 4)), np.ones((1, 4)))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_crossentropy_indexing_pattern(dtype):
    """The tutorial's ``-mean(log(p)[arange(n), y])`` with symbolic labels."""
    y = T.lvector("y")
    z = T.tensor(dtype, (None, None), "z")
    cost = -T.mean(T.log(T.nnet.softmax(z))[T.arange(y.shape[0]), y])
    zv = np.random.default_rng(3).normal(size=(4, 3)).astype(dtype)
    yv = np.array([0, 2, 1, 2])
    got_cost, got_grad = function([z, y], [cost, T.grad(cost, z)])(zv, yv)
    sm = np.exp(zv) / np.exp(zv).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(got_cost, -np.mean(np.log(sm)[np.arange(4), yv]), rtol=1e-5)
    np.testing.assert_allclose(got_grad, (sm - np.eye(3)[yv]) / 4, rtol=1e-4, atol=1e-6)


def test_pp_shows_python_indexing():
    from core import pp

    x, n = T.dmatrix("x"), T.lscalar("n")
    assert pp(x[1:n, ::2]) == "x[1:n, ::2]"
    assert pp(x[0]) == "x[0]"
    assert pp(x[:, None, -1]) == "x[:, None, -1]"
    assert pp(T.inc_subtensor(x[n], 1.0)) == "inc_subtensor(x[n], 1.0)"
