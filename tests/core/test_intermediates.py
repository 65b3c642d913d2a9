"""Every intermediate value on demand: ``Function.intermediates``."""
import numpy as np
import pytest

import core.tensor as T
from core import function, shared


def _graph():
    x = T.dmatrix("x")
    w = shared(np.array([[1.0, -1.0], [0.5, 2.0]]), name="w")
    h = T.dot(x, w)
    h.name = "h"
    a = T.nnet.relu(h)
    a.name = "a"
    cost = (a ** 2).sum()
    cost.name = "cost"
    return x, w, h, a, cost


def test_all_intermediates_in_computation_order_match_numpy():
    x, w, h, a, cost = _graph()
    f = function([x], cost, updates=[(w, w * 0.5)])
    data = np.array([[1.0, 2.0], [-3.0, 1.0]])
    values = f.intermediates(data)
    want_h = data @ w.get_value()
    np.testing.assert_allclose(values[h], want_h)
    np.testing.assert_allclose(values[a], np.maximum(want_h, 0))
    assert values[cost] == pytest.approx((np.maximum(want_h, 0) ** 2).sum())
    order = list(values)
    assert order.index(h) < order.index(a) < order.index(cost)
    # the update's expression is computed too, but nothing is updated
    np.testing.assert_array_equal(w.get_value(), [[1.0, -1.0], [0.5, 2.0]])
    assert len(values) >= 5  # dot, relu, square, sum, the update's product


def test_named_intermediates_by_name_or_variable_and_keyword_inputs():
    x, w, h, a, cost = _graph()
    f = function([x], cost)
    data = np.ones((1, 2))
    values = f.intermediates(x=data, names=["a", h])
    assert list(values) == [a, h]
    np.testing.assert_allclose(values[a], [[1.5, 1.0]])
    assert f.intermediates(data, names="cost")[cost] == pytest.approx(1.5 ** 2 + 1)
    with pytest.raises(ValueError, match=r"no intermediate variable named 'b'.*\['a', 'cost', "
                                         r"'h'\]"):
        f.intermediates(data, names=["b"])
    with pytest.raises(ValueError, match="not computed by this function"):
        f.intermediates(data, names=[T.dmatrix("other")])


def test_intermediates_are_the_users_variables_not_the_fused_ones():
    x = T.dvector("x")
    y = T.exp(x) * 2
    y.name = "y"
    z = T.log(y + 1)
    f = function([x], z)  # FAST_RUN fuses exp, mul, add and log into one node
    values = f.intermediates(np.zeros(3))
    np.testing.assert_allclose(values[y], [2.0, 2.0, 2.0])
    np.testing.assert_allclose(values[z], np.log([3.0, 3.0, 3.0]))
    assert f.intermediates(np.zeros(3)).keys() == values.keys()  # compiled once, reused
    assert len(f._intermediates_fns) == 1
