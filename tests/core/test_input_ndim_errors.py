"""A value with the wrong number of dimensions names both numbers (Theano: "Wrong number of
dimensions: expected 2, got 1"), for function inputs and shared values."""
import re

import numpy as np
import pytest

import core.tensor as T
from core import function, shared


@pytest.mark.parametrize("value, got", [(np.ones(3), 1), (np.ones((2, 2, 2)), 3), (3.0, 0),
                                        ([1.0, 2.0], 1)])
def test_function_input_of_the_wrong_rank(value, got):
    x = T.dmatrix("x")
    f = function([x], x * 2)
    want = f"input 0 (x, TensorType(float64, (?, ?))): expected 2 dimensions, got {got} " \
           f"(an array of shape {np.shape(value)}"
    with pytest.raises(TypeError, match=re.escape(want)):
        f(value)


def test_shared_set_value_of_the_wrong_rank():
    s = shared(np.zeros((2, 3)), name="s")
    with pytest.raises(TypeError, match="expected 2 dimensions, got 1"):
        s.set_value(np.zeros(3))
