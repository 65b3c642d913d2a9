"""concatenate, stack, split, repeat, tile, arange, eye: values, static shapes, gradients."""
import numpy as np
import pytest

import core.tensor as T
from core import function
from core.gradient import verify_grad
from core.graph.utils import graph_inputs

RNG = np.random.default_rng(0)
A = RNG.normal(size=(2, 3))
B = RNG.normal(size=(2, 3))
C = RNG.normal(size=(4, 3))

CASES = [  # (symbolic fn of (x, y, z), numpy fn of (a, b, c))
    (lambda x, y, z: T.concatenate([x, y], axis=1), lambda a, b, c: np.concatenate([a, b], 1)),
    (lambda x, y, z: T.concatenate([x, z, y]), lambda a, b, c: np.concatenate([a, c, b])),
    (lambda x, y, z: T.concatenate([x, y], axis=-1), lambda a, b, c: np.concatenate([a, b], -1)),
    (lambda x, y, z: T.stack([x, y]), lambda a, b, c: np.stack([a, b])),
    (lambda x, y, z: T.stack([x, y], axis=2), lambda a, b, c: np.stack([a, b], 2)),
    (lambda x, y, z: T.stack([x, y], axis=-2), lambda a, b, c: np.stack([a, b], -2)),
    (lambda x, y, z: T.split(z, [1, 3], 2)[1], lambda a, b, c: c[1:]),
    (lambda x, y, z: T.split(x, [2, 0, 1], 3, axis=1)[0], lambda a, b, c: a[:, :2]),
    (lambda x, y, z: T.repeat(x, 3, axis=1), lambda a, b, c: np.repeat(a, 3, 1)),
    (lambda x, y, z: T.repeat(z, [2, 0, 1, 3], axis=0), lambda a, b, c: np.repeat(c, [2, 0, 1, 3], 0)),
    (lambda x, y, z: T.repeat(x, 2), lambda a, b, c: np.repeat(a, 2)),
    (lambda x, y, z: T.tile(x, (2, 3)), lambda a, b, c: np.tile(a, (2, 3))),
    (lambda x, y, z: T.tile(x, 2), lambda a, b, c: np.tile(a, 2)),
    (lambda x, y, z: T.tile(x, (3, 1, 2)), lambda a, b, c: np.tile(a, (3, 1, 2))),
]


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_forward(case, dtype):
    sym, ref = CASES[case]
    x, y, z = (T.tensor(dtype, (None, None), n) for n in "xyz")
    a, b, c = ((v * 10).astype(dtype) for v in (A, B, C))
    out = sym(x, y, z)
    got = function([x, y, z], out, on_unused_input="ignore")(a, b, c)
    exp = ref(a, b, c)
    np.testing.assert_array_equal(got, exp)
    assert got.dtype == exp.dtype
    # with static input shapes, the output's static shape is exact
    xs, ys, zs = (T.tensor(dtype, v.shape) for v in (a, b, c))
    assert sym(xs, ys, zs).type.shape == exp.shape


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_gradients(case, dtype):
    sym, _ = CASES[case]
    probe = [T.dmatrix() for _ in range(3)]
    used = {id(v) for v in graph_inputs([sym(*probe)])}
    keep = [k for k, v in enumerate(probe) if id(v) in used]

    def fn(*args):
        full = dict(zip(keep, args))
        return sym(*[full.get(k, probe[k]) for k in range(3)]) ** 2

    verify_grad(fn, [[A, B, C][k] for k in keep], dtype=dtype)


def test_concatenate_upcasts_and_symbolic_split_sizes():
    x, y = T.imatrix("x"), T.dmatrix("y")
    out = T.concatenate([x, y])
    assert out.dtype == "float64"
    n = T.lscalar("n")
    v = T.dvector("v")
    first, second = T.split(v, [n, v.shape[0] - n], 2)
    f = function([v, n], [first, second])
    got = f(np.arange(5.0), 2)
    np.testing.assert_array_equal(got[0], [0, 1])
    np.testing.assert_array_equal(got[1], [2, 3, 4])


def test_concatenate_shapes_of_shape_vectors():
    x, w = T.dmatrix("x"), T.dtensor3("w")
    s = T.concatenate([x.shape, w.shape])
    np.testing.assert_array_equal(function([x, w], s)(np.zeros((2, 3)), np.zeros((4, 5, 6))),
                                  [2, 3, 4, 5, 6])


def test_arange():
    n, s = T.lscalar("n"), T.iscalar("s")
    f = function([n, s], [T.arange(n), T.arange(1, n, s), T.arange(n, 0, -s)])
    for got, exp in zip(f(7, 2), [np.arange(7), np.arange(1, 7, 2), np.arange(7, 0, -2)]):
        np.testing.assert_array_equal(got, exp)
        assert got.dtype == np.int64
    assert T.arange(5).type.shape == (5,)
    assert T.arange(0.0, 1.0, 0.25).eval().tolist() == [0, 0.25, 0.5, 0.75]
    assert T.arange(3, dtype="float32").dtype == "float32"
    assert T.arange(T.fscalar("f")).dtype == "float32"
    with pytest.raises(ValueError, match="step cannot be zero"):
        T.arange(0, 5, 0)


def test_eye():
    n = T.lscalar("n")
    f = function([n], [T.eye(n), T.eye(n, 4, 1, dtype="int32"), T.eye(3, k=-1)])
    for got, exp in zip(f(3), [np.eye(3), np.eye(3, 4, 1, dtype="int32"), np.eye(3, k=-1)]):
        np.testing.assert_array_equal(got, exp)
        assert got.dtype == exp.dtype
    assert T.eye(3, 5).type.shape == (3, 5)


def test_errors():
    with pytest.raises(ValueError, match="differ in axis 1"):
        T.concatenate([T.tensor("float64", (2, 3)), T.tensor("float64", (2, 4))])
    with pytest.raises(ValueError, match="same number"):
        T.concatenate([T.dmatrix(), T.dvector()])
    with pytest.raises(ValueError, match="out of range"):
        T.concatenate([T.dmatrix(), T.dmatrix()], axis=2)
    with pytest.raises(ValueError, match="do not add up"):
        T.split(T.tensor("float64", (5,)), [2, 2], 2)
    v = T.dvector("v")
    f = function([v], T.split(v, [2, 2], 2))
    with pytest.raises(ValueError, match="do not add up"):
        f(np.zeros(5))
    x, y = T.dmatrix("x"), T.dmatrix("y")
    g = function([x, y], T.concatenate([x, y]))
    with pytest.raises(ValueError, match="test_join.py"):
        g(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(TypeError, match="integer"):
        T.repeat(x, T.dvector())
