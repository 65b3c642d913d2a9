"""zero_grad, disconnected_grad, grad_clip, grad_scale: identities on values, with Theano's
gradient semantics; removed from compiled functions in every mode."""
import numpy as np
import pytest

import core.tensor as T
from core import function
from core.gradient import (DisconnectedInputError, disconnected_grad, grad_clip, grad_scale,
                           verify_grad, zero_grad)
from core.gradient_ops import GradientOp

X = np.array([0.2, 2.0, -3.0, 0.5])


def _no_gradient_ops(f):
    return not any(isinstance(n.op, GradientOp) for n in f.maker.fgraph.apply_nodes)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
@pytest.mark.parametrize("wrap", [zero_grad, disconnected_grad, lambda v: grad_clip(v, -1, 1),
                                  lambda v: grad_scale(v, 3.0)])
def test_values_pass_unchanged_and_the_op_is_removed(wrap, mode):
    x = T.dvector("x")
    f = function([x], wrap(T.exp(x)) * 2, mode=mode)
    np.testing.assert_allclose(f(X), 2 * np.exp(X))
    assert _no_gradient_ops(f)


def test_zero_grad_gives_a_zero_gradient_but_stays_connected():
    x = T.dvector("x")
    cost = T.sum(x ** 2 + zero_grad(x ** 3))
    f = function([x], [cost, T.grad(cost, x)])
    value, g = f(X)
    np.testing.assert_allclose(value, np.sum(X ** 2 + X ** 3))
    np.testing.assert_allclose(g, 2 * X)  # finite differences would see 2x + 3x**2
    only = T.grad(T.sum(zero_grad(x) * 5), x)  # no DisconnectedInputError
    np.testing.assert_array_equal(function([x], only)(X), np.zeros(4))


def test_disconnected_grad_cuts_the_path():
    x = T.dvector("x")
    with pytest.raises(DisconnectedInputError):
        T.grad(T.sum(disconnected_grad(x) ** 2), x)
    g = T.grad(T.sum(disconnected_grad(x) ** 2), x, disconnected_inputs="ignore")
    np.testing.assert_array_equal(function([x], g)(X), np.zeros(4))
    cost = T.sum(disconnected_grad(x) ** 2 + 3 * x)
    np.testing.assert_allclose(function([x], T.grad(cost, x))(X), np.full(4, 3.0))


def test_grad_clip_clips_the_gradient_elementwise():
    # Theano's documented example: grad(grad_clip(x, -1, 1) ** 2) at 2.0 is 1.0, not 4.0
    s = T.dscalar("s")
    z = grad_clip(s, -1, 1) ** 2
    assert [float(v) for v in function([s], [z, T.grad(z, s)])(2.0)] == [4.0, 1.0]
    x = T.dvector("x")
    g = function([x], T.grad(T.sum(grad_clip(x, -1, 1) ** 2), x))(X)
    np.testing.assert_allclose(g, np.clip(2 * X, -1, 1))


def test_gradients_inside_the_bounds_match_finite_differences():
    verify_grad(lambda v: T.tanh(grad_clip(v, -100, 100)) * v, [X])
    verify_grad(lambda v: T.exp(grad_scale(v, 1.0)), [X])


def test_grad_scale_multiplies_the_gradient():
    x = T.dvector("x")
    g = function([x], T.grad(T.sum(grad_scale(x, -0.5) ** 2), x))(X)
    np.testing.assert_allclose(g, -0.5 * 2 * X)


def test_grad_clip_rejects_crossed_bounds():
    with pytest.raises(ValueError, match="lower bound 1 is above the upper bound -1"):
        grad_clip(T.dvector("x"), 1, -1)
