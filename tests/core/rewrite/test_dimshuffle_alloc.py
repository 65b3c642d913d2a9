"""local_dimshuffle_alloc: a filled array is made in the layout its transposed view has."""
import numpy as np

import core.tensor as T
from core import function
from rewrite_helpers import rewrite_only, same_values, scalar_ops


def test_transposed_fill_becomes_one_alloc_in_the_new_layout():
    m = T.dtensor3("m")
    filled = T.alloc(1.5, m.shape[0], m.shape[1], 4)
    out = filled.dimshuffle(1, 2, 0)
    fg = rewrite_only([m], [out], "local_dimshuffle_alloc")
    assert "DimShuffle" not in scalar_ops(fg)
    mv = np.zeros((2, 3, 5))
    f = same_values([m], [out], [mv])
    got = f(mv)[0]
    assert got.shape == (3, 4, 2) and got.flags.c_contiguous
    np.testing.assert_array_equal(got, np.full((3, 4, 2), 1.5))


def test_a_value_of_size_one_axes_is_reordered_too():
    m = T.dtensor3("m")
    one = T.constant(np.full((1, 1, 1), 2.5))
    out = T.alloc(one, m.shape[0], m.shape[1], 4).dimshuffle(1, 2, 0)
    fg = rewrite_only([m], [out], "local_dimshuffle_alloc")
    assert scalar_ops(fg).count("DimShuffle") == 1  # only the value's (a size-1 view)
    mv = np.zeros((2, 3, 5))
    got = same_values([m], [out], [mv])(mv)[0]
    assert got.shape == (3, 4, 2) and got.flags.c_contiguous
    np.testing.assert_array_equal(got, np.full((3, 4, 2), 2.5))


def test_kept_when_the_fill_has_other_readers_or_a_non_scalar_value_or_new_axes():
    m, v = T.dmatrix("m"), T.dvector("v")
    filled = T.alloc(2.0, m.shape[0], m.shape[1])
    both = [filled.T, filled + 1]
    fg = rewrite_only([m], both, "local_dimshuffle_alloc")
    assert "DimShuffle" in scalar_ops(fg)
    rows = T.alloc(v, 3, v.shape[0]).T
    fg = rewrite_only([v], [rows], "local_dimshuffle_alloc")
    assert "DimShuffle" in scalar_ops(fg)
    fg = rewrite_only([m], [T.alloc(2.0, m.shape[0]).dimshuffle("x", 0)], "local_dimshuffle_alloc")
    assert "DimShuffle" in scalar_ops(fg)
    vv = np.array([1.0, 2.0])
    np.testing.assert_array_equal(function([v], rows)(vv), np.tile(vv, (3, 1)).T)
