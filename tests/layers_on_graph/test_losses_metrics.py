"""Losses and metrics against numpy formulas (Keras 3 semantics: clipping at 1e-7)."""
import numpy as np
import pytest

import core.tensor as T
from core import function
from core.gradient import verify_grad
from layers_on_graph import losses, metrics

rng = np.random.default_rng(0)
EPS = 1e-7


def _probs(n=6, k=4):
    p = rng.uniform(0.05, 1, size=(n, k))
    return (p / p.sum(1, keepdims=True)).astype("float32")


def test_regression_losses():
    t, p = rng.normal(size=(2, 5, 3)).astype("float32")
    np.testing.assert_allclose(losses.MeanSquaredError()(t, p), ((t - p) ** 2).mean(), rtol=1e-5)
    np.testing.assert_allclose(losses.get("mae")(t, p), np.abs(t - p).mean(), rtol=1e-5)
    err = np.abs(t - p)
    huber = np.where(err <= 1, 0.5 * err ** 2, err - 0.5).mean()
    np.testing.assert_allclose(losses.Huber()(t, p), huber, rtol=1e-5)


def test_sparse_categorical_crossentropy_clips_and_weights():
    p = _probs()
    p[0] = [1.0, 0.0, 0.0, 0.0]
    y = np.array([1, 2, 3, 0, 1, 2])
    clipped = np.clip(p / p.sum(1, keepdims=True), EPS, 1 - EPS)
    per = -np.log(clipped[np.arange(6), y])
    assert np.isfinite(per).all() and per[0] == pytest.approx(-np.log(EPS), rel=1e-3)
    np.testing.assert_allclose(losses.get("sparse_categorical_crossentropy")(y, p), per.mean(),
                               rtol=1e-4)
    sw = rng.uniform(size=6).astype("float32")
    np.testing.assert_allclose(losses.SparseCategoricalCrossentropy()(y, p, sw),
                               (per * sw).sum() / 6, rtol=1e-4)


def test_categorical_crossentropy_and_from_logits():
    p = _probs()
    y = np.eye(4, dtype="float32")[[0, 1, 2, 3, 0, 1]]
    np.testing.assert_allclose(losses.CategoricalCrossentropy()(y, p),
                               -(y * np.log(np.clip(p, EPS, 1 - EPS))).sum(1).mean(), rtol=1e-4)
    logits = rng.normal(size=(6, 4)).astype("float32")
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    np.testing.assert_allclose(losses.CategoricalCrossentropy(from_logits=True)(y, logits),
                               -(y * logp).sum(1).mean(), rtol=1e-4)
    np.testing.assert_allclose(
        losses.SparseCategoricalCrossentropy(from_logits=True)(y.argmax(1), logits),
        -(y * logp).sum(1).mean(), rtol=1e-4)


def test_binary_crossentropy():
    p = rng.uniform(size=(5, 2)).astype("float32")
    p[0, 0] = 1.0
    t = rng.integers(0, 2, size=(5, 2)).astype("float32")
    pc = np.clip(p, EPS, 1 - EPS)
    ref = (-(t * np.log(pc) + (1 - t) * np.log(1 - pc))).mean()
    np.testing.assert_allclose(losses.BinaryCrossentropy()(t, p), ref, rtol=1e-4)
    logits = rng.normal(size=(5, 2)).astype("float32")
    sig = 1 / (1 + np.exp(-logits))
    ref = (-(t * np.log(sig) + (1 - t) * np.log(1 - sig))).mean()
    np.testing.assert_allclose(losses.BinaryCrossentropy(from_logits=True)(t, logits), ref,
                               rtol=1e-4)


@pytest.mark.parametrize("name", ["mse", "mae", "categorical_crossentropy", "binary_crossentropy",
                                  "huber", "kl_divergence"])
def test_loss_gradients(name):
    loss = losses.get(name)
    t = _probs().astype("float64")
    for dtype in ("float32", "float64"):
        verify_grad(lambda p: loss(T.constant(t.astype(dtype)), p), [_probs()], dtype=dtype)


def test_sparse_loss_gradient():
    y = T.constant(np.array([1, 0, 3, 2, 1, 0]))
    for dtype in ("float32", "float64"):
        verify_grad(lambda p: losses.SparseCategoricalCrossentropy()(y, p), [_probs()],
                    dtype=dtype)


def test_unknown_loss():
    with pytest.raises(ValueError, match="unknown loss"):
        losses.get("mean_squared_errr")


def test_accuracy_variants_follow_the_loss():
    assert isinstance(metrics.get("accuracy", losses.get("sparse_categorical_crossentropy")),
                      metrics.SparseCategoricalAccuracy)
    assert isinstance(metrics.get("accuracy", losses.get("categorical_crossentropy")),
                      metrics.CategoricalAccuracy)
    assert isinstance(metrics.get("acc", losses.get("binary_crossentropy")),
                      metrics.BinaryAccuracy)
    assert isinstance(metrics.get("accuracy", losses.get("mse"), (None, 1)),
                      metrics.BinaryAccuracy)
    with pytest.raises(ValueError, match="unknown metric"):
        metrics.get("accuracyy")


def test_metric_values_and_running_mean():
    p = _probs(8)
    y = rng.integers(0, 4, 8)
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(y[:4], p[:4])
    m.update_state(y[4:], p[4:])
    assert m.result() == pytest.approx((p.argmax(1) == y).mean())
    m.reset_state()
    assert m.result() == 0.0
    c = metrics.CategoricalAccuracy()
    c.update_state(np.eye(4)[y], p, sample_weight=np.arange(8))
    assert c.result() == pytest.approx(((p.argmax(1) == y) * np.arange(8)).sum() / 28)
    b = metrics.BinaryAccuracy()
    b.update_state([[1], [0], [1]], [[0.7], [0.6], [0.2]])
    assert b.result() == pytest.approx(1 / 3)
    mae = metrics.get("mae")
    mae.update_state(np.zeros((2, 3)), np.ones((2, 3)))
    assert mae.result() == pytest.approx(1.0)


def test_top_k():
    p = np.array([[0.1, 0.5, 0.4], [0.6, 0.3, 0.1]], dtype="float32")
    m = metrics.SparseTopKCategoricalAccuracy(k=2)
    m.update_state([2, 2], p)
    assert m.result() == pytest.approx(0.5)


def test_symbolic_sums_in_a_function():
    y, p, w = T.lvector("y"), T.fmatrix("p"), T.fvector("w")
    total, count = metrics.SparseCategoricalAccuracy().symbolic_sums(y, p, w)
    out = function([y, p, w], [total, count])(np.array([0, 1]), np.eye(2, dtype="float32"),
                                              np.array([2.0, 3.0], "float32"))
    assert [float(v) for v in out] == [5.0, 5.0]
