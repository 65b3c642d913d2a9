"""Graphs that once broke a rewrite, kept as regression tests."""
import numpy as np

import core.tensor as T
from core import function


def test_mul_by_minus_one_of_a_bool_mask_negates_in_the_product_dtype():
    # Gradients of maximum multiply by a bool mask; -mask would be a bool negation (an error).
    x, y = T.dvector("x"), T.dvector("y")
    expr = T.mul(-1.0, T.ge(x, y))
    a, b = np.array([0.5, -1.0, 2.0]), np.array([0.0, 0.0, 3.0])
    fast = function([x, y], expr, mode="FAST_RUN")(a, b)
    np.testing.assert_allclose(fast, function([x, y], expr, mode="FAST_COMPILE")(a, b))
    np.testing.assert_allclose(fast, [-1.0, 0.0, 0.0])
