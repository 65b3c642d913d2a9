"""Theano's import paths for random streams run Theano code unchanged on core's streams."""
import numpy as np
import pytest

import core.tensor as T
from core import function
from core.sandbox.rng_mrg import MRG_RandomStreams
from core.tensor.random import RandomStreams as CoreRandomStreams
from core.tensor.shared_randomstreams import RandomStreams


def test_shared_randomstreams_is_the_core_class_by_both_paths():
    assert RandomStreams is CoreRandomStreams
    assert T.shared_randomstreams.RandomStreams is CoreRandomStreams
    assert issubclass(MRG_RandomStreams, CoreRandomStreams)


def test_theano_tutorial_snippet():
    srng = T.shared_randomstreams.RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    rv_n = srng.normal((2, 2))
    f = function([], rv_u)
    g = function([], rv_n, no_default_updates=True)
    a, b = f(), f()
    assert a.shape == (2, 2) and not np.array_equal(a, b) and ((0 <= a) & (a < 1)).all()
    np.testing.assert_array_equal(g(), g())
    srng.seed(234)
    np.testing.assert_array_equal(f(), a)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mrg_dropout_mask_frequency_and_dtype(dtype):
    srng = MRG_RandomStreams(seed=1234)
    mask = srng.binomial(size=(100, 100), p=0.8, dtype=dtype, nstreams=64)
    assert mask.dtype == dtype
    values = function([], mask)()
    assert set(np.unique(values)) <= {0, 1}
    assert abs(values.mean() - 0.8) < 0.02


def test_mrg_uniform_normal_and_seed():
    srng = MRG_RandomStreams(seed=7)
    u = srng.uniform(size=(2000,), low=-1, high=3, nstreams=4)
    n = srng.normal(size=(2000,), avg=2.0, std=0.5)
    f = function([], [u, n])
    first_u, first_n = f()
    assert -1 <= first_u.min() and first_u.max() < 3 and abs(first_u.mean() - 1) < 0.1
    assert abs(first_n.mean() - 2) < 0.05 and abs(first_n.std() - 0.5) < 0.05
    srng.seed(7)
    np.testing.assert_array_equal(f()[0], first_u)


def test_mrg_truncated_normal_is_refused():
    with pytest.raises(NotImplementedError, match="truncate"):
        MRG_RandomStreams(seed=1).normal(size=(3,), truncate=True)


def test_mrg_multinomial_counts_follow_pvals():
    srng = MRG_RandomStreams(seed=3)
    p = T.dmatrix("p")
    pvals = np.array([[0.98, 0.01, 0.01], [0.0, 0.5, 0.5], [0.2, 0.3, 0.5]])
    f = function([p], srng.multinomial(pvals=p, n=4000))
    counts = f(pvals)
    assert counts.dtype == np.int64 and counts.shape == (3, 3)
    np.testing.assert_array_equal(counts.sum(axis=1), [4000] * 3)
    assert counts[1, 0] == 0  # a class of probability 0 is never drawn
    np.testing.assert_allclose(counts / 4000, pvals, atol=0.03)
    one = function([p], srng.multinomial(pvals=p, dtype="float32"))(pvals)
    assert one.dtype == np.float32 and (one.sum(axis=1) == 1).all() and set(one.ravel()) <= {0, 1}
    srng.seed(3)
    np.testing.assert_array_equal(f(pvals), counts)
    with pytest.raises(ValueError, match="size and ndim"):
        srng.multinomial(size=(3,), pvals=p)


def test_updates_lists_each_draw_state():
    srng = RandomStreams(seed=11)
    u = srng.uniform((3,))
    pairs = srng.updates()
    assert len(pairs) == 1 and pairs[0][0] is u.rng
    f = function([], u, updates=pairs, no_default_updates=True)  # Theano code passes them
    assert not np.array_equal(f(), f())
