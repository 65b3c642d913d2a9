"""AUC, Precision, Recall, confusion counts, top-k accuracy and F-scores: against
scikit-learn's exact values and against real Keras 3 (which they match to float32)."""
import numpy as np
import pytest

from layers_on_graph import Sequential, layers, metrics

sk = pytest.importorskip("sklearn.metrics")

rng = np.random.default_rng(7)


def _binary(n=400):
    y = rng.integers(0, 2, n)
    p = np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1).astype("float32")
    return y, p


def _multiclass(n=300, c=5):
    y = rng.integers(0, c, n)
    logits = rng.normal(size=(n, c)) + 1.5 * np.eye(c)[y]
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return y, p.astype("float32")


def _update_in_batches(m, y, p, w=None, batch=64):
    for lo in range(0, len(y), batch):
        m.update_state(y[lo:lo + batch], p[lo:lo + batch],
                       None if w is None else w[lo:lo + batch])
    return m.result()


def test_auc_approximates_sklearn():
    y, p = _binary()
    w = rng.random(len(y)).astype("float32")
    roc = _update_in_batches(metrics.AUC(), y, p)
    assert roc == pytest.approx(sk.roc_auc_score(y, p), abs=2e-3)
    roc_w = _update_in_batches(metrics.AUC(num_thresholds=1000), y, p, w)
    assert roc_w == pytest.approx(sk.roc_auc_score(y, p, sample_weight=w), abs=1e-3)
    pr = _update_in_batches(metrics.AUC(curve="PR"), y, p)
    assert pr == pytest.approx(sk.average_precision_score(y, p), abs=5e-3)


def test_precision_recall_match_sklearn():
    y, p = _binary()
    w = rng.random(len(y))
    for thr in (0.3, 0.5, 0.7):
        pred = p > thr
        assert _update_in_batches(metrics.Precision(thresholds=thr), y, p, w) == pytest.approx(
            sk.precision_score(y, pred, sample_weight=w), rel=1e-5)
        assert _update_in_batches(metrics.Recall(thresholds=thr), y, p) == pytest.approx(
            sk.recall_score(y, pred), rel=1e-5)
    several = metrics.Precision(thresholds=[0.3, 0.7])
    several.update_state(y, p)
    np.testing.assert_allclose(several.result(), [sk.precision_score(y, p > 0.3),
                                                  sk.precision_score(y, p > 0.7)], rtol=1e-5)
    yc, pc = _multiclass()
    onehot = np.eye(5)[yc]
    for cid in range(5):  # one class against the rest, argmax-free: thresholded at 0.5
        m = metrics.Recall(class_id=cid)
        m.update_state(onehot, pc)
        assert m.result() == pytest.approx(sk.recall_score(yc == cid, pc[:, cid] > 0.5), rel=1e-5)
    top1 = metrics.Precision(top_k=1)  # top-1 precision over one-hot labels = accuracy
    top1.update_state(onehot, pc)
    assert top1.result() == pytest.approx(sk.accuracy_score(yc, pc.argmax(1)), rel=1e-5)


def test_confusion_counts():
    y = np.array([0, 1, 1, 1, 0])
    p = np.array([0.9, 0.2, 0.6, 0.8, 0.1])
    w = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    expected = {"TruePositives": 7.0, "FalsePositives": 1.0, "TrueNegatives": 5.0,
                "FalseNegatives": 2.0}
    for name, value in expected.items():
        m = getattr(metrics, name)()
        m.update_state(y, p, w)
        assert m.result() == value
        m.reset_state()
        assert m.result() == 0.0
        assert m(y, p, w) == value  # calling a metric updates it and returns its result


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracy_matches_sklearn(k):
    y, p = _multiclass()
    p[0, :2] = p[0, y[0]] if y[0] >= 2 else p[0, :2]  # a tie; both libraries count it a hit
    expected = sk.top_k_accuracy_score(y, p, k=k, labels=range(5))
    dense = _update_in_batches(metrics.TopKCategoricalAccuracy(k=k), np.eye(5)[y], p)
    sparse = _update_in_batches(metrics.SparseTopKCategoricalAccuracy(k=k), y, p)
    assert dense == pytest.approx(expected) and sparse == pytest.approx(expected)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_f1_matches_sklearn(average):
    y, p = _multiclass()
    got = _update_in_batches(metrics.F1Score(average=average), np.eye(5)[y], p)
    np.testing.assert_allclose(got, sk.f1_score(y, p.argmax(1), average=average), rtol=1e-5)
    labels = (rng.random((300, 4)) < 0.4).astype("float32")
    scores = rng.random((300, 4)).astype("float32")
    fb = metrics.FBetaScore(average=average, beta=2.0, threshold=0.5)
    fb.update_state(labels, scores)
    np.testing.assert_allclose(fb.result(), sk.fbeta_score(labels, scores > 0.5, beta=2.0,
                                                           average=average), rtol=1e-5)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="curve"):
        metrics.AUC(curve="ROCK")
    with pytest.raises(ValueError, match="num_thresholds"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metrics.Precision(thresholds=1.5)
    with pytest.raises(ValueError, match="average"):
        metrics.F1Score(average="samples")
    with pytest.raises(ValueError, match="2D"):
        metrics.F1Score().update_state([1, 0], [0.3, 0.6])


def test_get_by_name():
    for name, cls in [("auc", metrics.AUC), ("precision", metrics.Precision),
                      ("recall", metrics.Recall), ("f1_score", metrics.F1Score),
                      ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy),
                      ("AUC", metrics.AUC)]:
        m = metrics.get(name)
        assert isinstance(m, cls) and m.name == name.lower()


def test_in_compile_equals_eager_over_the_whole_set():
    """compile(metrics=...) accumulates sums over batches: the epoch value equals the
    eager metric over all predictions, not a mean of batch values."""
    x = rng.normal(size=(200, 6)).astype("float32")
    y = (x[:, 0] + 0.5 * rng.normal(size=200) > 0).astype("float32")[:, None]
    model = Sequential([layers.Dense(1, activation="sigmoid", input_shape=(6,))])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=["auc", "precision", metrics.Recall(thresholds=0.4),
                           metrics.AUC(curve="PR", name="pr_auc"),
                           metrics.F1Score(threshold=0.5, average="micro")])
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0, validation_split=0.25)
    assert {"auc", "precision", "recall", "pr_auc", "f1_score", "val_auc"} <= set(
        history.history)
    logs = model.evaluate(x, y, batch_size=27, verbose=0, return_dict=True)
    pred = model.predict(x, verbose=0)
    for name, m in [("auc", metrics.AUC()), ("precision", metrics.Precision()),
                    ("recall", metrics.Recall(thresholds=0.4)),
                    ("pr_auc", metrics.AUC(curve="PR")),
                    ("f1_score", metrics.F1Score(threshold=0.5, average="micro"))]:
        m.update_state(y, pred)
        assert logs[name] == pytest.approx(m.result(), rel=1e-5, abs=1e-6), name


def test_multiclass_metrics_in_compile():
    y, _ = _multiclass(120)
    x = (np.eye(5)[y] + rng.normal(scale=0.8, size=(120, 5))).astype("float32")
    model = Sequential([layers.Dense(5, activation="softmax", input_shape=(5,))])
    model.compile(optimizer="adam", loss="categorical_crossentropy",
                  metrics=[metrics.TopKCategoricalAccuracy(k=2), metrics.F1Score(),
                           metrics.AUC(multi_label=True)])
    model.fit(x, np.eye(5)[y], epochs=1, verbose=0)
    logs = model.evaluate(x, np.eye(5)[y], verbose=0, return_dict=True)
    pred = model.predict(x, verbose=0)
    assert logs["top_k_categorical_accuracy"] == pytest.approx(
        sk.top_k_accuracy_score(y, pred, k=2, labels=range(5)))
    np.testing.assert_allclose(logs["f1_score"], sk.f1_score(y, pred.argmax(1), average=None,
                                                             labels=range(5)), rtol=1e-4)
    assert logs["auc"] == pytest.approx(sk.roc_auc_score(np.eye(5)[y], pred, average="macro"),
                                        abs=5e-3)


# ----- against real Keras -----
def _keras_value(keras_metric, y, p, w=None):
    keras_metric.update_state(y, p, sample_weight=w)
    return np.asarray(keras_metric.result())


@pytest.mark.parametrize("make", [
    lambda M: M.AUC(),
    lambda M: M.AUC(curve="PR"),
    lambda M: M.AUC(num_thresholds=17, summation_method="minoring"),
    lambda M: M.AUC(curve="PR", summation_method="majoring"),
    lambda M: M.AUC(thresholds=[0.2, 0.5, 0.6]),
    lambda M: M.AUC(from_logits=True),
    lambda M: M.Precision(),
    lambda M: M.Recall(thresholds=[0.0, 0.5, 1.0]),
    lambda M: M.TruePositives(thresholds=[0.25, 0.75]),
    lambda M: M.FalseNegatives(),
], ids=["auc", "pr", "minoring", "pr-majoring", "given-thresholds", "logits", "precision",
        "recall-even", "tp", "fn"])
def test_binary_metrics_equal_keras(make):
    keras = pytest.importorskip("keras")
    y, p = _binary(300)
    p = p * 1.2 - 0.1  # some values outside [0, 1], which Keras clips for even thresholds
    w = rng.random(300).astype("float32")
    ours = make(metrics)
    ours.update_state(y, p, w)
    np.testing.assert_allclose(ours.result(), _keras_value(make(keras.metrics), y, p, w),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [
    lambda M: M.Precision(top_k=2),
    lambda M: M.Recall(top_k=1, class_id=3),
    lambda M: M.Precision(class_id=1, thresholds=[0.1, 0.3]),
    lambda M: M.AUC(multi_label=True),
    lambda M: M.AUC(multi_label=True, label_weights=[1, 2, 0, 1, 1], curve="PR"),
    lambda M: M.AUC(label_weights=[1, 2, 0, 1, 1]),
    lambda M: M.F1Score(),
    lambda M: M.F1Score(average="weighted", threshold=0.3),
    lambda M: M.FBetaScore(average="micro", beta=0.5),
    lambda M: M.FBetaScore(average="macro", beta=2.0, threshold=0.2),
    lambda M: M.TopKCategoricalAccuracy(k=2),
], ids=["prec-top2", "rec-top1-class", "prec-class", "auc-multilabel", "auc-ml-weights-pr",
        "auc-label-weights", "f1", "f1-weighted", "fbeta-micro", "fbeta-macro", "topk"])
def test_multiclass_metrics_equal_keras(make):
    keras = pytest.importorskip("keras")
    y, p = _multiclass(200)
    onehot = np.eye(5, dtype="float32")[y]
    w = rng.random(200).astype("float32")
    ours = make(metrics)
    ours.update_state(onehot, p, w)
    np.testing.assert_allclose(ours.result(), _keras_value(make(keras.metrics), onehot, p, w),
                               rtol=1e-5, atol=1e-6)


def test_saved_metric_objects_load_in_keras_with_the_same_values(tmp_path):
    keras = pytest.importorskip("keras")
    x = rng.random((40, 3)).astype("float32")
    y = (x[:, :1] + 0.3 * rng.random((40, 1)) > 0.6).astype("float32")
    model = Sequential([layers.Input(shape=(3,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=[metrics.AUC(curve="PR", name="pr_auc"),
                           metrics.Precision(thresholds=[0.3, 0.6]),
                           metrics.F1Score(threshold=0.5, average="micro")])
    model.fit(x, y, verbose=0)
    model.save(tmp_path / "m.keras")
    ours = model.evaluate(x, y, verbose=0, return_dict=True)
    theirs = keras.saving.load_model(tmp_path / "m.keras").evaluate(x, y, verbose=0,
                                                                    return_dict=True)
    assert set(ours) == set(theirs)
    for name in ours:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-5, err_msg=name)


def test_masked_steps_do_not_count():
    """As Keras, a mask on the predictions (Embedding(mask_zero=True) through a sequence)
    weights every metric: the result equals the metric over the unmasked steps only."""
    x = rng.integers(1, 20, (32, 6))
    x[:, 4:] = 0
    x[::2, 2:] = 0
    y = (rng.random((32, 6, 1)) > 0.5).astype("float32")
    model = Sequential([layers.Input(shape=(6,), dtype="int64"),
                        layers.Embedding(20, 4, mask_zero=True),
                        layers.SimpleRNN(5, return_sequences=True),
                        layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=["auc", metrics.Recall(thresholds=0.5)])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    keep = x != 0
    pred = model.predict(x, verbose=0)
    for name, m in [("auc", metrics.AUC()), ("recall", metrics.Recall(thresholds=0.5))]:
        m.update_state(y[keep], pred[keep])
        assert logs[name] == pytest.approx(m.result(), rel=1e-6), name


def test_sparse_top_k_equals_keras():
    keras = pytest.importorskip("keras")
    y, p = _multiclass(200)
    for k in (1, 3):
        ours = metrics.SparseTopKCategoricalAccuracy(k=k)
        ours.update_state(y, p)
        theirs = keras.metrics.SparseTopKCategoricalAccuracy(k=k)
        theirs.update_state(y, p)
        assert ours.result() == pytest.approx(float(theirs.result()), abs=1e-7)
