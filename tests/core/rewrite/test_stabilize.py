"""Stabilizations: finite, correct values and gradients where the raw graph overflows."""
import numpy as np
import pytest

import core.tensor as T
from core import function
from core.gradient import verify_grad
from rewrite_helpers import rewrite_only, scalar_ops

LOGITS = np.array([[1000.0, 0.0, -3.0], [0.0, 1000.0, 2.0], [-1000.0, 1.0, 0.5]])
LABELS = np.array([1, 1, 2])


def _sig(v):
    return 0.5 * (1 + np.tanh(0.5 * v))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _xent_and_grad(z, y):
    sm = _softmax(z)
    lse = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)
    loss = (lse - z[np.arange(len(y)), y]).mean()
    onehot = np.eye(z.shape[1])[y]
    return loss, (sm - onehot) / len(y)


def test_log1p_and_expm1():
    x = T.dvector("x")
    assert scalar_ops(rewrite_only([x], [T.log(1 + x)], "local_log1p")) == ["Log1p"]
    assert scalar_ops(rewrite_only([x], [T.exp(x) - 1], "local_expm1")) == ["Expm1"]
    f = function([x], [T.log(1 + x), T.exp(x) - 1])
    small = np.array([1e-20, -1e-18])
    a, b = f(small)
    np.testing.assert_allclose(a, small)
    np.testing.assert_allclose(b, small)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log_one_plus_exp_is_softplus_with_finite_gradient(dtype):
    x = T.scalar("x", dtype=dtype)
    y = T.log(1 + T.exp(x))
    f = function([x], [y, T.grad(y, x)])
    # the value and its gradient may share one fused loop: look inside composites too
    assert "softplus" in str([n.op for n in f.maker.fgraph.toposort()]).lower()
    for v, want, dwant in [(1000.0, 1000.0, 1.0), (-1000.0, 0.0, 0.0), (0.5, np.log1p(np.exp(0.5)),
                                                                         1 / (1 + np.exp(-0.5)))]:
        val, grad = f(v)
        assert np.isfinite(val) and np.isfinite(grad)
        np.testing.assert_allclose([val, grad], [want, dwant], rtol=1e-5)


def test_hand_written_sigmoid_becomes_sigmoid():
    x = T.dvector("x")
    fg = rewrite_only([x], [1 / (1 + T.exp(-x))], "local_sigmoid_from_div", "local_neg_neg")
    assert scalar_ops(fg) == ["Sigmoid"]
    fg = rewrite_only([x], [T.reciprocal(1 + T.exp(-x))], "local_sigmoid_from_reciprocal")
    assert scalar_ops(fg) == ["Sigmoid"]


@pytest.mark.parametrize("form", ["op", "hand"])
def test_log_sigmoid_forms_finite(form):
    x = T.dvector("x")
    p = T.nnet.sigmoid(x) if form == "op" else 1 / (1 + T.exp(-x))
    costs = [T.log(p).sum(), T.log(1 - p).sum()]
    f = function([x], costs + [T.grad(c, x) for c in costs])
    v = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    lp, l1p, g1, g2 = f(v)
    np.testing.assert_allclose(lp, -np.logaddexp(0, -v).sum())
    np.testing.assert_allclose(l1p, -np.logaddexp(0, v).sum())
    np.testing.assert_allclose(g1, 1 - _sig(v), atol=1e-12)
    np.testing.assert_allclose(g2, -_sig(v), atol=1e-12)


def test_log_softmax_and_its_gradient():
    z = T.dmatrix("z")
    fg = rewrite_only([z], [T.log(T.nnet.softmax(z))], "local_log_softmax")
    assert scalar_ops(fg) == ["LogSoftmax"]
    t = T.dmatrix("t")
    cost = -(t * T.log(T.nnet.softmax(z))).sum(axis=1).mean()
    f = function([z, t], [cost, T.grad(cost, z)])
    loss, grad = f(LOGITS, np.eye(3)[LABELS])
    want_loss, want_grad = _xent_and_grad(LOGITS, LABELS)
    np.testing.assert_allclose(loss, want_loss)
    np.testing.assert_allclose(grad, want_grad, atol=1e-12)


def test_logsumexp_value_and_gradient():
    z = T.dmatrix("z")
    cost = T.log(T.exp(z).sum(axis=1)).sum()
    f = function([z], [cost, T.grad(cost, z)])
    assert "LogSumExp" in scalar_ops(f)
    val, grad = f(LOGITS)
    m = LOGITS.max(1, keepdims=True)
    np.testing.assert_allclose(val, (np.log(np.exp(LOGITS - m).sum(1)) + m[:, 0]).sum())
    np.testing.assert_allclose(grad, _softmax(LOGITS), atol=1e-12)
    keep = T.log(T.exp(z).sum(axis=1, keepdims=True))
    assert "LogSumExp" in scalar_ops(function([z], keep))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_crossentropy_fused_and_finite(dtype):
    z, y = T.matrix("z", dtype=dtype), T.lvector("y")
    cost = T.nnet.categorical_crossentropy(T.nnet.softmax(z), y).mean()
    f = function([z, y], [cost, T.grad(cost, z)])
    ops = scalar_ops(f)
    assert "CrossentropySoftmax1Hot" in ops and "CrossentropySoftmax1HotDx" in ops
    loss, grad = f(LOGITS.astype(dtype), LABELS)
    want_loss, want_grad = _xent_and_grad(LOGITS, LABELS)
    np.testing.assert_allclose(loss, want_loss, rtol=1e-5)
    np.testing.assert_allclose(grad, want_grad, atol=1e-6)


@pytest.mark.parametrize("rows", ["labels", "logits"])
def test_hand_written_crossentropy_is_fused_and_stable(rows):
    z, y = T.dmatrix("z"), T.lvector("y")
    n = y.shape[0] if rows == "labels" else z.shape[0]
    cost = -T.log(T.nnet.softmax(z)[T.arange(n), y]).mean()
    f = function([z, y], [cost, T.grad(cost, z)])
    assert "CrossentropySoftmax1Hot" in scalar_ops(f)
    loss, grad = f(LOGITS, LABELS)
    want_loss, want_grad = _xent_and_grad(LOGITS, LABELS)
    np.testing.assert_allclose(loss, want_loss)
    np.testing.assert_allclose(grad, want_grad, atol=1e-12)
    if rows == "labels":  # fewer labels than rows: the first rows, as the indexing reads them
        loss2, _ = f(LOGITS, LABELS[:2])
        np.testing.assert_allclose(loss2, _xent_and_grad(LOGITS[:2], LABELS[:2])[0])


def test_log_of_indexed_softmax_becomes_indexed_log_softmax():
    z, i = T.dmatrix("z"), T.lvector("i")
    fg = rewrite_only([z, i], [T.log(T.nnet.softmax(z)[i])], "local_log_softmax")
    assert scalar_ops(fg) == ["LogSoftmax", "AdvancedSubtensor"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_new_ops_gradients(dtype):
    from core.tensor.rewritten_ops import CrossentropySoftmax1Hot, logsumexp

    rng = np.random.default_rng(0)
    verify_grad(lambda z: logsumexp(z, axis=1), [rng.standard_normal((3, 4)).astype(dtype)],
                dtype=dtype)
    labels = T.constant(np.array([0, 2, 1]))
    verify_grad(lambda z: CrossentropySoftmax1Hot()(z, labels),
                [rng.standard_normal((3, 4)).astype(dtype)], dtype=dtype)


def test_crossentropy_op_reports_bad_labels():
    from core.tensor.rewritten_ops import CrossentropySoftmax1Hot

    z, y = T.dmatrix("z"), T.lvector("y")
    f = function([z, y], CrossentropySoftmax1Hot()(z, y))
    with pytest.raises(ValueError, match="labels must lie in"):
        f(LOGITS, np.array([0, 5, 1]))


def test_seed_logistic_regression_is_stable_and_learns():
    from core import shared

    rng = np.random.default_rng(0)
    n, feats = 400, 784
    data_x, data_y = rng.standard_normal((n, feats)), rng.integers(0, 2, size=n).astype(float)
    x, y = T.dmatrix("x"), T.dvector("y")
    w = shared(rng.standard_normal(feats), name="w")
    b = shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = function([x, y], xent, updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)])
    predict = function([x], p_1 > 0.5)
    for _ in range(1000):
        err = train(data_x, data_y)
        assert np.isfinite(err).all()
    assert np.mean(predict(data_x) == data_y) >= 0.99


def test_seed_logistic_loss_gradient_finite_at_huge_logits():
    rng = np.random.default_rng(3)
    x, y, w = T.dmatrix("x"), T.dvector("y"), T.dvector("w")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w)))
    cost = (-y * T.log(p_1) - (1 - y) * T.log(1 - p_1)).mean()
    f = function([x, y, w], [cost, T.grad(cost, w)])
    xv, yv, wv = rng.standard_normal((6, 5)), rng.integers(0, 2, 6).astype(float), rng.standard_normal(5) * 1000
    loss, grad = f(xv, yv, wv)
    z = xv @ wv
    np.testing.assert_allclose(loss, np.mean(np.logaddexp(0, z) - yv * z))
    np.testing.assert_allclose(grad, xv.T @ (_sig(z) - yv) / 6, atol=1e-12)
