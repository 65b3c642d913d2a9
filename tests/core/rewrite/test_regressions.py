"""Graphs that once broke a rewrite, kept as regression tests."""
import numpy as np

import core.tensor as T
from core import function


def test_mul_by_minus_one_of_a_bool_mask_negates_in_the_product_dtype():
    # grad of -maximum(x, x) multiplies -1 by the bool mask (x >= x); -mask must not be a bool negation.
    x = T.dvector("x")
    g = T.grad((-T.maximum(x, x)).sum(), x)
    value = np.array([0.5, -1.0, 2.0])
    fast = function([x], g, mode="FAST_RUN")(value)
    plain = function([x], g, mode="FAST_COMPILE")(value)
    np.testing.assert_allclose(fast, plain)
    np.testing.assert_allclose(fast, -np.ones(3))
