"""At |z| = 1000 the stabilized graphs give finite values and gradients equal to float64
closed forms, in float32 and float64, on the numpy and the C backend (FAST_RUN), and in
FAST_COMPILE, which runs the stabilize rules too (unlike Theano's), so the two modes agree.
"""
import numpy as np
import pytest

import backends.c as c_backend
import core.tensor as T
from backends.c import compiler
from core import function
from core.config import config

Z = np.array([[1000.0, -1000.0, 0.0, 2.5],
              [-1000.0, 1000.0, 3.0, -1.0],
              [0.0, 1.0, -1000.0, 1000.0]])
LABELS = np.array([1, 0, 2])            # rows 0 and 2: the label's probability underflows to 0
ONE_HOT = np.eye(4)[LABELS]
TARGETS = np.array([[1.0, 0.0, 1.0, 0.25], [1.0, 1.0, 0.0, 0.5], [0.0, 0.5, 1.0, 0.0]])
WEIGHTS = np.array([[0.5, -1.0, 2.0, 1.0], [1.0, 0.0, -2.0, 0.5], [3.0, 1.0, 0.0, -1.0]])


def softplus(v):
    return np.logaddexp(0.0, v)


def sigmoid(v):
    return 0.5 * (1.0 + np.tanh(0.5 * v))


def logsumexp(v, axis=None, keepdims=False):
    m = v.max(axis=axis, keepdims=True)
    out = m + np.log(np.exp(v - m).sum(axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def softmax(v, axis=1):
    return np.exp(v - logsumexp(v, axis=axis, keepdims=True))


def _column_one_hot():
    hot = np.zeros((3, 4))
    hot[LABELS, np.arange(3)] = 1
    return hot


def _xent(z, y):
    return logsumexp(z, axis=1) - z[np.arange(len(y)), y]


# name -> (cost(z, labels, targets, weights) on symbols, value(z), gradient(z)) in float64;
# the one-hot case gets ONE_HOT as its weights
CASES = {
    "hand_written_crossentropy": (
        lambda z, y, t, w: -T.log(T.nnet.softmax(z)[T.arange(y.shape[0]), y]).mean(),
        lambda z: _xent(z, LABELS).mean(),
        lambda z: (softmax(z) - ONE_HOT) / len(LABELS)),
    "hand_written_crossentropy_log_outside": (
        lambda z, y, t, w: -T.mean(T.log(T.nnet.softmax(z))[T.arange(z.shape[0]), y]),
        lambda z: _xent(z, LABELS).mean(),
        lambda z: (softmax(z) - ONE_HOT) / len(LABELS)),
    "log_softmax_column": (  # basic indexing
        lambda z, y, t, w: -T.log(T.nnet.softmax(z)[:, 1]).sum(),
        lambda z: (logsumexp(z, axis=1) - z[:, 1]).sum(),
        lambda z: softmax(z) - np.eye(4)[[1, 1, 1]]),
    "hand_written_crossentropy_columns_softmax": (  # softmax over axis 0, labels per column
        lambda z, y, t, w: -T.log(T.nnet.softmax(z, axis=0)[y, T.arange(3)]).sum(),
        lambda z: (logsumexp(z[:, :3], axis=0) - z[LABELS, np.arange(3)]).sum(),
        lambda z: softmax(z, axis=0) * np.array([1, 1, 1, 0]) - _column_one_hot()),  # col 3 unused
    "hand_written_softmax_crossentropy": (  # softmax as exp / sum(exp)
        lambda z, y, t, w: -T.log((T.exp(z) / T.exp(z).sum(axis=1, keepdims=True))[
            T.arange(z.shape[0]), y]).mean(),
        lambda z: _xent(z, LABELS).mean(),
        lambda z: (softmax(z) - ONE_HOT) / len(LABELS)),
    "hand_written_softmax": (
        lambda z, y, t, w: (T.exp(z) / T.sum(T.exp(z), axis=1, keepdims=True) * w).sum(),
        lambda z: (softmax(z) * WEIGHTS).sum(),
        lambda z: softmax(z) * (WEIGHTS - (WEIGHTS * softmax(z)).sum(1, keepdims=True))),
    "binary_crossentropy_of_sigmoid": (
        lambda z, y, t, w: T.nnet.binary_crossentropy(T.nnet.sigmoid(z), t).sum(),
        lambda z: (TARGETS * softplus(-z) + (1 - TARGETS) * softplus(z)).sum(),
        lambda z: sigmoid(z) - TARGETS),
    "binary_crossentropy_of_sigmoid_mean": (
        lambda z, y, t, w: T.nnet.binary_crossentropy(T.nnet.sigmoid(z), t).mean(),
        lambda z: (TARGETS * softplus(-z) + (1 - TARGETS) * softplus(z)).mean(),
        lambda z: (sigmoid(z) - TARGETS) / z.size),
    "categorical_crossentropy_one_hot": (
        lambda z, y, t, w: T.nnet.categorical_crossentropy(T.nnet.softmax(z), w).sum(),
        lambda z: _xent(z, LABELS).sum(),
        lambda z: softmax(z) - ONE_HOT),
    "categorical_crossentropy_labels": (
        lambda z, y, t, w: T.nnet.categorical_crossentropy(T.nnet.softmax(z), y).sum(),
        lambda z: _xent(z, LABELS).sum(),
        lambda z: softmax(z) - ONE_HOT),
    "log_sigmoid": (
        lambda z, y, t, w: T.log(T.nnet.sigmoid(z)).sum(),
        lambda z: -softplus(-z).sum(),
        lambda z: sigmoid(-z)),
    "log_one_minus_sigmoid": (
        lambda z, y, t, w: T.log(1 - T.nnet.sigmoid(z)).sum(),
        lambda z: -softplus(z).sum(),
        lambda z: -sigmoid(z)),
    "log_one_plus_exp": (
        lambda z, y, t, w: T.log(1 + T.exp(z)).sum(),
        lambda z: softplus(z).sum(),
        lambda z: sigmoid(z)),
    "log_sum_exp_all": (
        lambda z, y, t, w: T.log(T.sum(T.exp(z))),
        lambda z: logsumexp(z),
        lambda z: np.exp(z - logsumexp(z))),
    "log_sum_exp_rows": (
        lambda z, y, t, w: T.log(T.sum(T.exp(z), axis=1)).sum(),
        lambda z: logsumexp(z, axis=1).sum(),
        lambda z: softmax(z)),
    "softmax": (
        lambda z, y, t, w: (T.nnet.softmax(z) * w).sum(),
        lambda z: (softmax(z) * WEIGHTS).sum(),
        lambda z: softmax(z) * (WEIGHTS - (WEIGHTS * softmax(z)).sum(1, keepdims=True))),
}

BACKENDS = ["numpy", pytest.param("c", marks=pytest.mark.skipif(
    compiler.compiler() is None, reason="no C compiler"))]


def _compile(name, dtype, mode="FAST_RUN"):
    z = T.matrix("z", dtype=dtype)
    y, t, w = T.lvector("y"), T.matrix("t", dtype=dtype), T.matrix("w", dtype=dtype)
    cost = CASES[name][0](z, y, t, w)
    f = function([z, y, t, w], [cost, T.grad(cost, z)], mode=mode, on_unused_input="ignore")
    weights = ONE_HOT if name == "categorical_crossentropy_one_hot" else WEIGHTS
    return lambda zv: f(zv.astype(dtype), LABELS, TARGETS.astype(dtype), weights.astype(dtype))


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch):
    monkeypatch.setattr(c_backend, "LAZY_WORK", 0)  # C kernels from the first call,
    monkeypatch.setattr(c_backend, "LAZY_MIN_COUNTED", 0)  # also on these small arrays
    with config.change_flags(backend=request.param):
        yield request.param


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_extreme_inputs_match_closed_forms(name, dtype, backend):
    value, grad = _compile(name, dtype)(Z)
    assert value.dtype == grad.dtype == dtype
    assert np.isfinite(value).all() and np.isfinite(grad).all(), (value, grad)
    rtol, atol = (2e-6, 1e-6) if dtype == "float32" else (1e-12, 1e-13)
    np.testing.assert_allclose(value, CASES[name][1](Z), rtol=rtol)
    np.testing.assert_allclose(grad, CASES[name][2](Z), rtol=rtol, atol=atol)


# exp(z) / sum(exp(z)) becomes a softmax in specialize, which FAST_COMPILE leaves out
NEEDS_SPECIALIZE = {"hand_written_softmax_crossentropy"}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(set(CASES) - NEEDS_SPECIALIZE))
def test_fast_compile_is_stable_too(name, dtype, numpy_backend):
    value, grad = _compile(name, dtype, "FAST_COMPILE")(Z)
    assert np.isfinite(value).all() and np.isfinite(grad).all(), (value, grad)
    rtol, atol = (2e-6, 1e-6) if dtype == "float32" else (1e-12, 1e-13)
    np.testing.assert_allclose(value, CASES[name][1](Z), rtol=rtol)
    np.testing.assert_allclose(grad, CASES[name][2](Z), rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", sorted(CASES))
def test_moderate_inputs_unchanged_by_stabilization(name):
    """The same closed forms hold where the raw formulas do not overflow: the rewrites
    keep values."""
    small = Z / 400.0
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        value, grad = _compile(name, "float64", mode)(small)
        np.testing.assert_allclose(value, CASES[name][1](small), rtol=1e-12)
        np.testing.assert_allclose(grad, CASES[name][2](small), rtol=1e-10, atol=1e-14)
