"""Gradients of maximum/minimum read the output, so a ReLU layer's pre-activation can be overwritten."""
import numpy as np
import pytest

import core.tensor as T
from core import function, shared
from core.gradient import verify_grad


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_gradient_is_zero_at_zero_as_in_pytorch_and_keras(dtype):
    x = T.vector("x", dtype=dtype)
    g = function([x], T.grad(T.nnet.relu(x).sum(), x))
    np.testing.assert_array_equal(g(np.array([-1, 0, 2], dtype)), [0, 0, 1])


@pytest.mark.parametrize("op, ref_mask", [(T.maximum, np.greater), (T.minimum, np.less)])
def test_max_min_ties_send_the_gradient_to_the_second_operand(op, ref_mask):
    x, y = T.dvectors("x", "y")
    gx, gy = T.grad(op(x, y).sum(), [x, y])
    f = function([x, y], [gx, gy])
    xv, yv = np.array([1.0, 2.0, 3.0, np.nan]), np.array([2.0, 2.0, 1.0, 0.0])
    got_x, got_y = f(xv, yv)
    mask = ref_mask(xv, yv)
    np.testing.assert_array_equal(got_x, mask)
    np.testing.assert_array_equal(got_y, ~mask)


def test_max_min_gradients_against_finite_differences_away_from_ties():
    rng = np.random.default_rng(0)
    xv, yv = rng.normal(size=5), rng.normal(size=5) + 3 * np.sign(rng.normal(size=5))
    verify_grad(lambda a, b: T.maximum(a, b) * T.minimum(a, b), [xv, yv], rng=rng)


def test_dense_relu_training_step_overwrites_its_pre_activation():
    x = T.dmatrix("x")
    w = shared(np.full((3, 4), 0.5), name="w")
    b = shared(np.zeros(4), name="b")
    z = T.dot(x, w) + b
    cost = T.nnet.relu(z).sum()
    gw, gb = T.grad(cost, [w, b])
    f = function([x], cost, updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)])
    nodes = f.maker.fgraph.toposort()
    (relu,) = [n for n in nodes if "maximum" in str(n.op)]
    assert relu.op.destroy_map, "relu should write into the product's buffer"
    assert relu.inputs[list(relu.op.destroy_map.values())[0][0]].owner.op.__class__.__name__ == "Dot"
    xv = np.array([[1.0, -2.0, 0.5], [-1.0, -1.0, -1.0]])
    zv = xv @ np.full((3, 4), 0.5)
    assert f(xv) == pytest.approx(np.maximum(zv, 0).sum())
    np.testing.assert_allclose(w.get_value(), 0.5 - 0.1 * xv.T @ (zv > 0))
    np.testing.assert_allclose(b.get_value(), -0.1 * (zv > 0).sum(axis=0))
