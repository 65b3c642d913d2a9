"""Optimizers keep each weight's dtype: float32 weights under floatx float64 (a float64
learning rate) take float32 updates, equal to the float64 run's within float32 rounding
(core.function refuses an update of another dtype, as Theano)."""
import numpy as np
import pytest

import core.tensor as T
from core import function, shared
from layers_on_graph import backend, optimizers

CONFIGS = [("SGD", {}), ("SGD", {"momentum": 0.9, "nesterov": True}), ("Adam", {}),
           ("Adam", {"amsgrad": True, "clipnorm": 1.0}), ("AdamW", {}),
           ("RMSprop", {"momentum": 0.5, "centered": True}), ("Adagrad", {}),
           ("SGD", {"global_clipnorm": 1.0, "weight_decay": 0.01})]


def _train(name, kwargs, dtype, steps=3):
    opt = getattr(optimizers, name)(learning_rate=np.float64(0.05), **kwargs)
    w = shared(np.array([1.0, -2.0, 0.5], dtype=dtype), name="w")
    x = T.vector("x", dtype=dtype)
    cost = T.sum(T.sqr(w * x - 1))
    step = function([x], cost, updates=opt.get_updates([w], [T.grad(cost, w)]))
    for _ in range(steps):
        step(np.array([0.3, 1.0, -2.0], dtype=dtype))
    return w.get_value()


@pytest.mark.parametrize("name, kwargs", CONFIGS)
def test_float32_weights_under_float64_floatx(name, kwargs):
    old = backend.floatx()
    backend.set_floatx("float64")
    try:
        low = _train(name, kwargs, "float32")
        high = _train(name, kwargs, "float64")
    finally:
        backend.set_floatx(old)
    assert low.dtype == np.float32 and high.dtype == np.float64
    np.testing.assert_allclose(low, high, rtol=1e-5, atol=1e-6)
    assert not np.allclose(high, [1.0, -2.0, 0.5])  # the steps moved the weights


def test_add_update_casts_like_keras_assign():
    moving = shared(np.zeros(2, dtype="float32"), name="moving")
    batch = T.dvector("batch")
    with backend.collect_updates() as updates:
        backend.add_update(moving, moving * 0.9 + batch * 0.1)
    ((var, value),) = updates
    assert var is moving and value.dtype == "float32"
    function([batch], [], updates=updates)(np.array([1.0, 2.0]))
    np.testing.assert_allclose(moving.get_value(), [0.1, 0.2], rtol=1e-6)
