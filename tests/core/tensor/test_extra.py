"""tensordot, batched_dot, outer, dot above 2-d, where/switch broadcasting."""
import numpy as np
import pytest

import core.tensor as T
from core import function
from core.gradient import verify_grad
from core.tensor.extra import BatchedDot

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Each test draws the same data however the tests are selected or ordered."""
    global RNG
    RNG = np.random.default_rng(0)

TENSORDOT = [  # (shape a, shape b, axes)
    ((2, 3, 4), (3, 4, 5), 2),
    ((2, 3, 4), (4, 5), 1),
    ((2, 3), (4, 5), 0),
    ((2, 3, 4), (4, 3, 2), [[1, 2], [1, 0]]),
    ((3, 4), (2, 3), [[0], [1]]),
    ((2, 3, 4), (3,), [[-2], [0]]),
    ((3,), (3,), 1),
]


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
@pytest.mark.parametrize("case", range(len(TENSORDOT)))
def test_tensordot_forward(case, dtype):
    sa, sb, axes = TENSORDOT[case]
    a = (RNG.normal(size=sa) * 5).astype(dtype)
    b = (RNG.normal(size=sb) * 5).astype(dtype)
    x, y = T.tensor(dtype, (None,) * len(sa)), T.tensor(dtype, (None,) * len(sb))
    got = function([x, y], T.tensordot(x, y, axes))(a, b)
    exp = np.tensordot(a, b, axes)
    np.testing.assert_allclose(got, exp, rtol=1e-5)
    assert got.dtype == exp.dtype
    assert T.tensordot(T.tensor(dtype, sa), T.tensor(dtype, sb), axes).type.shape == exp.shape


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", range(len(TENSORDOT)))
def test_tensordot_grad(case, dtype):
    sa, sb, axes = TENSORDOT[case]
    verify_grad(lambda x, y: T.tensordot(x, y, axes), [RNG.normal(size=sa), RNG.normal(size=sb)],
                dtype=dtype)


def test_dot_above_two_dims_uses_tensordot():
    x, y = T.dtensor3("x"), T.dmatrix("y")
    a, b = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(4, 5))
    np.testing.assert_allclose(function([x, y], T.dot(x, y))(a, b), np.dot(a, b))
    z = T.dtensor3("z")
    c = RNG.normal(size=(6, 4, 2))
    np.testing.assert_allclose(function([x, z], T.dot(x, z))(a, c), np.dot(a, c))


BATCHED = [((4, 2, 3), (4, 3, 5)), ((4, 3), (4, 3)), ((4, 2, 3), (4, 3)), ((4, 3), (4, 3, 2))]


def _np_batched_dot(a, b):
    return np.stack([np.dot(u, v) for u, v in zip(a, b)])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shapes", BATCHED)
def test_batched_dot(shapes, dtype):
    a, b = (RNG.normal(size=s).astype(dtype) for s in shapes)
    x, y = (T.tensor(dtype, (None,) * len(s)) for s in shapes)
    out = T.batched_dot(x, y)
    got = function([x, y], out)(a, b)
    np.testing.assert_allclose(got, _np_batched_dot(a, b), rtol=1e-5)
    assert got.dtype == dtype
    verify_grad(T.batched_dot, [a, b], dtype=dtype)
    assert T.batched_dot(*(T.tensor(dtype, s) for s in shapes)).type.shape == got.shape


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("side", [0, 1])
def test_batched_dot_broadcasts_a_batch_of_one(side, dtype):
    w = RNG.normal(size=(2, 3) if side == 0 else (3, 5)).astype(dtype)
    b = RNG.normal(size=(4, 3, 5) if side == 0 else (4, 2, 3)).astype(dtype)

    def product(w_, b_):
        one = w_.dimshuffle("x", 0, 1)
        return T.batched_dot(one, b_) if side == 0 else T.batched_dot(b_, one)

    x, y = T.tensor(dtype, (None, None)), T.tensor(dtype, (None, None, None))
    out = product(x, y)
    assert out.type.shape[0] is None
    got = function([x, y], out)(w, b)
    want = np.stack([w @ m if side == 0 else m @ w for m in b])
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert got.dtype == dtype
    gw = function([x, y], T.grad(T.sum(out * out), x))(w, b)  # summed over the batch
    ref = sum(2 * (g @ m.T if side == 0 else m.T @ g) for g, m in zip(want, b))
    np.testing.assert_allclose(gw, ref, rtol=1e-4)
    verify_grad(product, [w, b], dtype=dtype)
    assert product(T.tensor(dtype, (2, 3) if side == 0 else (3, 5)),
                   T.tensor(dtype, b.shape)).type.shape == got.shape


def test_batched_dot_big_products_reuse_only_a_free_array():
    from core import config

    x, y = T.ftensor3(), T.ftensor3()
    old = config.backend
    config.backend = "numpy"
    try:
        f = function([x, y], T.batched_dot(x, y))
    finally:
        config.backend = old
    a, b = (RNG.normal(size=s).astype("float32") for s in ((8, 64, 16), (8, 16, 96)))
    held = f(a, b)
    want = np.matmul(a, b)
    second = f(2 * a, b)  # the first result is still held: a new array
    np.testing.assert_allclose(held, want, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(second, 2 * want, rtol=1e-5, atol=1e-4)
    address = second.ctypes.data
    del second
    third = f(3 * a, b)  # the second result was dropped: its array is written again
    assert third.ctypes.data == address
    np.testing.assert_allclose(third, 3 * want, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(held, want, rtol=1e-5, atol=1e-4)


def test_batched_dot_errors():
    with pytest.raises(ValueError, match="do not match"):
        T.batched_dot(T.tensor("float64", (4, 2, 3)), T.tensor("float64", (4, 2, 3)))
    with pytest.raises(TypeError, match="2-d or 3-d"):
        T.batched_dot(T.dvector(), T.dmatrix())
    x, y = T.dtensor3(), T.dtensor3()
    f = function([x, y], BatchedDot()(x, y))
    with pytest.raises(ValueError, match="not aligned"):
        f(np.zeros((2, 3, 4)), np.zeros((3, 4, 2)))
    with pytest.raises(ValueError, match="not aligned"):  # a batch of 1 not known statically
        f(np.zeros((1, 3, 4)), np.zeros((3, 4, 2)))


def test_tensordot_errors():
    with pytest.raises(ValueError, match="does not match"):
        T.tensordot(T.tensor("float64", (2, 3)), T.tensor("float64", (4, 2)), 1)
    with pytest.raises(ValueError, match="paired"):
        T.tensordot(T.dmatrix(), T.dmatrix(), [[0, 1], [0]])
    with pytest.raises(ValueError, match="out of range"):
        T.tensordot(T.dmatrix(), T.dmatrix(), [[2], [0]])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_outer(dtype):
    a, b = RNG.normal(size=3).astype(dtype), RNG.normal(size=4).astype(dtype)
    x, y = T.tensor(dtype, (None,)), T.tensor(dtype, (None,))
    np.testing.assert_allclose(function([x, y], T.outer(x, y))(a, b), np.outer(a, b), rtol=1e-6)
    verify_grad(T.outer, [a, b], dtype=dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_where_switch_broadcasting(dtype):
    c = T.TensorType("bool", (None, 1))("c")
    x = T.TensorType(dtype, (1, None))("x")
    y = T.tensor(dtype, ())
    out = T.where(c, x, y)
    assert out.type.shape == (None, None) and out.dtype == dtype
    cv = np.array([[True], [False], [True]])
    xv = RNG.normal(size=(1, 4)).astype(dtype)
    yv = np.asarray(2.5, dtype=dtype)
    np.testing.assert_array_equal(function([c, x, y], out)(cv, xv, yv), np.where(cv, xv, yv))
    assert T.switch is T.where
    verify_grad(lambda a, b: T.switch(a > 0, a * 2, b), [RNG.normal(size=(3, 4)), RNG.normal(size=(4,))],
                dtype=dtype)
