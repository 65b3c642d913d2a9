"""RandomStreams: distributions, default updates, reseeding, symbolic sizes."""
import numpy as np
import pytest

import core.tensor as T
from core import function, shared
from core.tensor.random import RandomStreams


def test_two_calls_differ_and_seed_repeats():
    srng = RandomStreams(seed=234)
    u = srng.uniform((2, 2))
    f = function([], u)
    a, b = f(), f()
    assert a.shape == (2, 2) and not np.allclose(a, b)
    srng.seed(234)
    np.testing.assert_array_equal(f(), a)
    np.testing.assert_array_equal(f(), b)


def test_streams_with_same_seed_agree_and_draws_are_independent():
    s1, s2 = RandomStreams(7), RandomStreams(7)
    a, b = s1.normal((5,)), s1.normal((5,))
    va, vb = function([], [a, b])()
    assert not np.allclose(va, vb)
    np.testing.assert_array_equal(function([], s2.normal((5,)))(), va)


def test_no_default_updates_and_explicit_update_win():
    srng = RandomStreams(1)
    u = srng.uniform((3,))
    g = function([], u, no_default_updates=True)
    np.testing.assert_array_equal(g(), g())
    # An explicit update of the state replaces the default one.
    h = function([], u, updates=[(u.rng, u.rng)])
    np.testing.assert_array_equal(h(), h())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_uniform_normal_moments(dtype):
    srng = RandomStreams(3)
    u = srng.uniform((20000,), low=-1.0, high=3.0, dtype=dtype)
    n = srng.normal((20000,), avg=2.0, std=0.5, dtype=dtype)
    vu, vn = function([], [u, n])()
    assert vu.dtype == dtype and vn.dtype == dtype
    assert vu.min() >= -1 and vu.max() < 3
    assert abs(vu.mean() - 1.0) < 0.05
    assert abs(vn.mean() - 2.0) < 0.02 and abs(vn.std() - 0.5) < 0.02


def test_binomial_choice_permutation():
    srng = RandomStreams(5)
    b = srng.binomial((10000,), n=3, p=0.25)
    c = srng.choice((2000,), a=4, p=[0.1, 0.2, 0.3, 0.4])
    c2 = srng.choice((3,), a=np.array([10, 20, 30]), replace=False)
    p = srng.permutation((4,), n=6)
    vb, vc, vc2, vp = function([], [b, c, c2, p])()
    assert vb.dtype == np.int64 and set(np.unique(vb)) <= {0, 1, 2, 3}
    assert abs(vb.mean() - 0.75) < 0.05
    counts = np.bincount(vc, minlength=4) / 2000
    np.testing.assert_allclose(counts, [0.1, 0.2, 0.3, 0.4], atol=0.04)
    assert sorted(vc2) == [10, 20, 30]
    assert vp.shape == (4, 6)
    for row in vp:
        assert sorted(row) == list(range(6))


def test_symbolic_size_and_parameter_broadcast():
    srng = RandomStreams(9)
    n = T.lscalar("n")
    u = srng.uniform((n, 3))
    assert u.type.shape == (None, 3)
    assert function([n], u)(4).shape == (4, 3)
    avg = T.dvector("avg")
    draw = srng.normal(avg=avg, std=1e-9)
    np.testing.assert_allclose(function([avg], draw)(np.arange(4.0)), np.arange(4.0), atol=1e-6)


def test_state_is_a_numeric_shared_and_kernel_is_pure():
    srng = RandomStreams(11)
    u = srng.uniform((2,))
    state = u.rng.get_value()
    assert state.dtype == np.uint64
    f = function([], u)
    first = f()
    u.rng.set_value(state)
    np.testing.assert_array_equal(f(), first)


def test_bad_arguments_raise():
    srng = RandomStreams(0)
    with pytest.raises(ValueError, match="negative"):
        srng.uniform((-1, 2))
    n = srng.normal((2,), std=-1.0)
    with pytest.raises(ValueError, match="std"):
        function([], n)()
    with pytest.raises(ValueError, match="choice"):
        srng.choice((2,), a=np.zeros((2, 2)))


def test_draws_are_not_differentiable():
    srng = RandomStreams(0)
    x = T.dscalar("x")
    u = srng.uniform((3,), low=x, high=x + 1)
    with pytest.raises(ValueError, match="does not depend"):
        T.grad(u.sum(), x)


def test_random_plus_shared_in_one_function():
    srng = RandomStreams(2)
    w = shared(np.zeros(3))
    d = srng.binomial((3,), p=0.5)
    f = function([], w + d, updates=[(w, w + 1)])
    f()
    out = f()
    assert np.all((out == 1) | (out == 2))


def test_size_vector_of_unknown_length_needs_ndim():
    srng = RandomStreams(4)
    shp = T.lvector("shp")
    with pytest.raises(ValueError, match="ndim"):
        srng.uniform(shp)
    u = srng.uniform(shp, ndim=2)
    assert u.ndim == 2
    f = function([shp], u)
    assert f(np.array([2, 5])).shape == (2, 5)
    with pytest.raises(ValueError, match="ndim"):
        f(np.array([2, 5, 1]))
    with pytest.raises(ValueError, match="ndim=3"):
        srng.normal((2, 2), ndim=3)
    p = srng.permutation(T.lvector("s"), n=3, ndim=1)
    assert p.ndim == 2
