"""The numpy Split kernel (basic slicing): views of the input, any axis, size checks."""
import numpy as np
import pytest

import core.tensor as T
from core import function


@pytest.mark.parametrize("axis", [0, 1, -1, -2])
def test_split_matches_numpy_on_any_axis(axis):
    x = T.dmatrix("x")
    sizes = T.lvector("sizes")
    parts = T.split(x, sizes, 3, axis=axis)
    f = function([x, sizes], parts, mode="FAST_COMPILE")
    xv = np.arange(30.0).reshape(5, 6)
    n = xv.shape[axis]
    cuts = [1, n - 3, 2]
    got = f(xv, np.array(cuts))
    want = np.split(xv, np.cumsum(cuts)[:-1], axis=axis)
    assert [g.shape for g in got] == [w.shape for w in want]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_split_sizes_must_add_up():
    x = T.dvector("x")
    sizes = T.lvector("sizes")
    f = function([x, sizes], T.split(x, sizes, 2), mode="FAST_COMPILE")
    with pytest.raises(ValueError, match="do not add up"):
        f(np.arange(5.0), np.array([2, 2]))
    with pytest.raises(ValueError, match="do not add up"):
        f(np.arange(5.0), np.array([6, -1]))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_split_constant_sizes(axis):
    """Constant sizes (an RNN step's gates): slices made once; the same views and checks."""
    x = T.dmatrix("x")
    parts = T.split(x, [2, 0, 4], 3, axis=axis)
    f = function([x], parts, mode="FAST_COMPILE")
    xv = np.arange(36.0).reshape(6, 6)
    got = f(xv)
    want = np.split(xv, [2, 2], axis=axis)
    assert [g.shape for g in got] == [w.shape for w in want]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    with pytest.raises(ValueError, match="do not add up"):
        f(np.zeros((5, 5)))
